# Runs `apical simulate` on a short benchmark-4 network and checks that
# summary.json carries every documented key and spikes.csv is written;
# then checks that bad input fails with a message naming the field.
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --duration 200 --output ${OUT}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "apical simulate failed (${rc}): ${out} ${err}")
endif()
file(READ ${OUT}/summary.json summary)
foreach(key neurons synapses spikes rate_e_hz rate_i_hz cv_isi build_s sim_s events_per_s
            peak_rss_bytes estimated_memory_bytes bytes_per_synapse populations)
  string(JSON value ERROR_VARIABLE missing GET "${summary}" ${key})
  if(missing)
    message(FATAL_ERROR "summary.json lacks '${key}': ${missing}")
  endif()
endforeach()
string(JSON neurons GET "${summary}" neurons)
if(NOT neurons EQUAL 4000)
  message(FATAL_ERROR "expected 4000 neurons (the kick is a Poisson input), got ${neurons}")
endif()
string(JSON delivery GET "${summary}" delivery)
if(NOT delivery STREQUAL "ordered")
  message(FATAL_ERROR "expected the ordered delivery path (one thread, 0.1 ms delays), got ${delivery}")
endif()
if(NOT EXISTS ${OUT}/spikes.csv)
  message(FATAL_ERROR "spikes.csv was not written")
endif()

# 10 ms: no neuron fires 3 spikes, so the CV of inter-spike intervals is
# undefined: "n/a" with the reason on the console, null in summary.json.
execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --duration 10 --output ${OUT}/short
                        --no-spikes
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "CV n/a \\(no neuron fired 3 or more spikes\\)"
   OR out MATCHES "nan")
  message(FATAL_ERROR "an undefined CV was not reported as n/a: rc=${rc} ${out} ${err}")
endif()
file(READ ${OUT}/short/summary.json summary)
string(JSON cv_type TYPE "${summary}" cv_isi)
string(JSON e_cv_type TYPE "${summary}" populations E cv_isi)
if(NOT cv_type STREQUAL "NULL" OR NOT e_cv_type STREQUAL "NULL")
  message(FATAL_ERROR "an undefined CV is not null in summary.json: ${cv_type} ${e_cv_type}")
endif()

# A network far larger than any machine (10^13 synapses, 40 TB) is refused
# before anything is built, naming the estimate and what is available.
execute_process(COMMAND ${APICAL} simulate --preset brunel-scaled --scale 1000
                        --output ${OUT}/huge
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "the network needs about [0-9.]+ TiB"
   OR NOT err MATCHES "projection EE: .* for 1e13 synapses" OR NOT err MATCHES "available"
   OR NOT err MATCHES "--no-memory-check")
  message(FATAL_ERROR "a network too large for memory was not refused clearly: rc=${rc} ${err}")
endif()

# State recording: 10 neurons of E, every 0.5 ms over 200 ms.
execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --duration 200 --output ${OUT}/state
                        --record-state E.v_mv --record-interval 0.5 --no-spikes
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT EXISTS ${OUT}/state/state_E_v_mv.csv)
  message(FATAL_ERROR "--record-state failed: ${err}")
endif()
file(STRINGS ${OUT}/state/state_E_v_mv.csv rows)
list(LENGTH rows n)
if(NOT n EQUAL 4001)  # header + 400 samples x 10 neurons
  message(FATAL_ERROR "state_E_v_mv.csv has ${n} lines, expected 4001")
endif()
execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --duration 10 --output ${OUT}/bad
                        --record-state E.voltage
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "v_mv")
  message(FATAL_ERROR "an unknown state variable was not rejected with the known names: ${err}")
endif()

# Same seed, same spikes: a second run gives a byte-identical spikes.csv.
execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --duration 200 --output ${OUT}/again
                RESULT_VARIABLE rc OUTPUT_QUIET)
file(SHA256 ${OUT}/spikes.csv first)
file(SHA256 ${OUT}/again/spikes.csv second)
if(NOT first STREQUAL second)
  message(FATAL_ERROR "two runs with the same seed wrote different spikes")
endif()
# ... and so do the windowed path and two threads (forced: this network's
# windows are too small to be shared by default).
foreach(variant "--delivery;windowed" "--threads;2;--force-threads")
  execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --duration 200 ${variant}
                          --output ${OUT}/variant
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  file(SHA256 ${OUT}/variant/spikes.csv other)
  if(NOT rc EQUAL 0 OR NOT first STREQUAL other)
    message(FATAL_ERROR "simulate ${variant} wrote different spikes (rc ${rc})")
  endif()
  file(READ ${OUT}/variant/summary.json variant_summary)
  if(variant MATCHES "threads" AND NOT variant_summary MATCHES "\"threads\": 2")
    message(FATAL_ERROR "simulate ${variant} did not run on 2 threads: ${variant_summary}")
  endif()
endforeach()
# Without --force-threads, two threads on windows this small are reduced to
# one, with a notice.
execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --duration 20 --threads 2
                        --output ${OUT}/shared
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
file(READ ${OUT}/shared/summary.json shared_summary)
if(NOT rc EQUAL 0 OR NOT err MATCHES "too few to share" OR NOT shared_summary MATCHES "\"threads\": 1")
  message(FATAL_ERROR "--threads 2 on small windows was not reduced with a notice (rc ${rc}): ${err}")
endif()

# Bad input: a clear error naming the field, non-zero exit.
execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --set population.E.tau_m_ms=-1
                        --output ${OUT}/bad
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "tau_m_ms")
  message(FATAL_ERROR "a negative tau_m_ms was not rejected by name: rc=${rc} ${err}")
endif()
execute_process(COMMAND ${APICAL} simulate --config ${OUT}/missing.ini
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "missing.ini")
  message(FATAL_ERROR "a missing config was not reported: rc=${rc} ${err}")
endif()

# A run that stops early (here killed by a timeout) leaves its spikes under
# spikes.csv.part, not a spikes.csv that looks complete; a finished run
# leaves no .part behind.
if(EXISTS ${OUT}/spikes.csv.part)
  message(FATAL_ERROR "a finished run left spikes.csv.part")
endif()
file(REMOVE_RECURSE ${OUT}/stopped)
execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --duration 10000000
                        --output ${OUT}/stopped
                TIMEOUT 2 RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(rc EQUAL 0 OR EXISTS ${OUT}/stopped/spikes.csv OR EXISTS ${OUT}/stopped/summary.json
   OR NOT EXISTS ${OUT}/stopped/spikes.csv.part)
  message(FATAL_ERROR "a stopped run (rc ${rc}) left a spikes.csv or summary.json, or no .part")
endif()
