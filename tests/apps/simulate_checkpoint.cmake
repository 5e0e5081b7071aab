# `apical simulate --checkpoint` and `--resume`: a run checkpointed at 50,
# 100 and 130 ms and resumed (with another thread count) to 200 ms writes
# the spike file and spike counts of the uninterrupted run, and so does a
# plastic network; damaged and foreign checkpoints, spike files that are
# not the checkpointed run's, and an existing checkpoint file are refused
# with messages saying what is wrong.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
function(run_apical expect_ok)
  execute_process(COMMAND ${APICAL} simulate ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(expect_ok AND NOT rc EQUAL 0)
    message(FATAL_ERROR "apical simulate ${ARGN} failed (${rc}): ${out} ${err}")
  endif()
  if(NOT expect_ok AND rc EQUAL 0)
    message(FATAL_ERROR "apical simulate ${ARGN} succeeded, expected a refusal")
  endif()
  set(err "${err}" PARENT_SCOPE)
endfunction()
# Fails unless the last refusal's message contains `pattern`.
function(expect_message pattern)
  if(NOT err MATCHES "${pattern}")
    message(FATAL_ERROR "expected a message matching '${pattern}', got: ${err}")
  endif()
endfunction()

set(ck ${OUT}/part/run.ckpt)  # in the output directory, which the run creates
run_apical(TRUE --config ${CONFIG} --duration 200 --output ${OUT}/whole)
run_apical(TRUE --config ${CONFIG} --duration 130 --output ${OUT}/part --checkpoint ${ck}
           --checkpoint-every 50)
file(READ ${OUT}/part/summary.json part)
string(JSON written GET "${part}" checkpoints_written)
if(NOT written EQUAL 3)
  message(FATAL_ERROR "expected checkpoints at 50, 100 and 130 ms, got ${written}")
endif()
# The resumed run continues the spike file of the checkpointed one, in its
# output directory.
run_apical(TRUE --config ${CONFIG} --duration 200 --output ${OUT}/part --resume ${ck}
           --threads 2 --force-threads)
file(SHA256 ${OUT}/whole/spikes.csv whole_hash)
file(SHA256 ${OUT}/part/spikes.csv resumed_hash)
if(NOT whole_hash STREQUAL resumed_hash)
  message(FATAL_ERROR "the resumed run's spikes.csv differs from the uninterrupted run's")
endif()
file(READ ${OUT}/whole/summary.json whole)
file(READ ${OUT}/part/summary.json resumed)
# summary.json covers the whole run: the spike and event counts of the
# uninterrupted run, and where the resumed part began.
string(JSON spikes_whole GET "${whole}" spikes)
string(JSON events_whole GET "${whole}" synaptic_events)
string(JSON spikes_resumed GET "${resumed}" spikes)
string(JSON events_resumed GET "${resumed}" synaptic_events)
string(JSON from GET "${resumed}" resumed_from_ms)
if(NOT "${spikes_resumed} ${events_resumed} ${from}" STREQUAL "${spikes_whole} ${events_whole} 130")
  message(FATAL_ERROR "summary.json: spikes, synaptic_events, resumed_from_ms "
                      "${spikes_resumed} ${events_resumed} ${from}; expected "
                      "${spikes_whole} ${events_whole} 130")
endif()
# The rates and CVs, from activity sums carried by the checkpoints: those
# of the uninterrupted run, to the last digit written.
foreach(key rate_e_hz rate_i_hz cv_isi)
  string(JSON a GET "${whole}" ${key})
  string(JSON b GET "${resumed}" ${key})
  if(NOT a STREQUAL b)
    message(FATAL_ERROR "summary.json: ${key} ${b} after the resume, ${a} uninterrupted")
  endif()
endforeach()
string(JSON a GET "${whole}" populations)
string(JSON b GET "${resumed}" populations)
if(NOT a STREQUAL b)
  message(FATAL_ERROR "summary.json: populations ${b} after the resume, ${a} uninterrupted")
endif()

# Refusals.
run_apical(FALSE --config ${CONFIG} --duration 10 --output ${OUT}/again --checkpoint ${ck})
expect_message("--checkpoint .*part/run.ckpt: the file exists")
run_apical(FALSE --config ${CONFIG} --duration 200 --output ${OUT}/other --resume ${ck}
           --set population.E.tau_m_ms=21)
expect_message("run.ckpt: the checkpoint is of another network: the checkpoint has population 0 'E'")
run_apical(FALSE --config ${CONFIG} --duration 200 --output ${OUT}/seed --resume ${ck} --seed 99)
expect_message("another network: the checkpoint has .*, seed [0-9]+; this network has .*, seed 99")
run_apical(FALSE --config ${CONFIG} --duration 100 --output ${OUT}/early --resume ${ck})
expect_message("--duration 100: the checkpoint .* is already at 130 ms")
execute_process(COMMAND head -c 5000 ${ck} OUTPUT_FILE ${OUT}/truncated.ckpt)
run_apical(FALSE --config ${CONFIG} --duration 200 --output ${OUT}/cut --resume
           ${OUT}/truncated.ckpt)
expect_message("truncated.ckpt: checkpoint truncated: the header announces [0-9]+ payload bytes, 4960")
run_apical(FALSE --config ${CONFIG} --duration 200 --output ${OUT}/none --resume ${CONFIG})
expect_message("brette_bench4.ini: not a checkpoint")
run_apical(FALSE --preset stdp-balanced --duration 10 --output ${OUT}/plastic --checkpoint
           ${OUT}/plastic.ckpt --record-weights 1)
expect_message("--checkpoint: --record-weights is not checkpointed")
run_apical(FALSE --config ${CONFIG} --checkpoint-every 10 --output ${OUT}/every)
expect_message("--checkpoint-every needs --checkpoint FILE")

# The spike file is written as the run goes; the checkpoint holds its
# length and a hash of its bytes. A resume into another output directory,
# or onto a spike file that is not the checkpointed run's, is refused.
run_apical(FALSE --config ${CONFIG} --duration 200 --output ${OUT}/elsewhere --resume ${ck})
expect_message("elsewhere/spikes.csv: the spike file of the checkpoint .*run.ckpt is missing")
file(COPY ${OUT}/whole/spikes.csv DESTINATION ${OUT}/foreign)
file(WRITE ${OUT}/foreign/spikes.csv "time_ms,population,neuron\n0.5,E,1\n")
file(READ ${OUT}/whole/spikes.csv whole_spikes)
file(APPEND ${OUT}/foreign/spikes.csv "${whole_spikes}")
run_apical(FALSE --config ${CONFIG} --duration 200 --output ${OUT}/foreign --resume ${ck})
expect_message("foreign/spikes.csv: its first [0-9]+ bytes are not those the checkpoint")
run_apical(FALSE --config ${CONFIG} --duration 200 --output ${OUT}/part --resume ${ck} --no-spikes)
expect_message("the checkpointed run wrote spikes.csv, this one would write no spike file")

# SONATA: the spikes go to DIR/spikes.h5.records as the run goes (kept
# while checkpoints refer to them, removed otherwise) and spikes.h5 is
# written from them at the end. Without HDF5 in this build, skipped.
execute_process(COMMAND ${APICAL} simulate --config ${CONFIG} --duration 20 --spikes-format sonata
                        --output ${OUT}/sonata_plain
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(rc EQUAL 0)
  if(NOT EXISTS ${OUT}/sonata_plain/spikes.h5 OR EXISTS ${OUT}/sonata_plain/spikes.h5.records)
    message(FATAL_ERROR "a SONATA run without checkpoints: expected spikes.h5 and no records")
  endif()
  set(sonata --config ${CONFIG} --spikes-format sonata)
  run_apical(TRUE ${sonata} --duration 200 --output ${OUT}/sonata_whole --checkpoint
             ${OUT}/sonata_whole/run.ckpt)
  run_apical(TRUE ${sonata} --duration 120 --output ${OUT}/sonata_part --checkpoint
             ${OUT}/sonata_part/run.ckpt --checkpoint-every 50)
  run_apical(TRUE ${sonata} --duration 200 --output ${OUT}/sonata_part --resume
             ${OUT}/sonata_part/run.ckpt --threads 2 --force-threads)
  file(SHA256 ${OUT}/sonata_whole/spikes.h5.records sonata_whole_hash)
  file(SHA256 ${OUT}/sonata_part/spikes.h5.records sonata_part_hash)
  file(READ ${OUT}/sonata_whole/summary.json a)
  file(READ ${OUT}/sonata_part/summary.json b)
  string(JSON a GET "${a}" spikes)
  string(JSON b GET "${b}" spikes)
  if(NOT sonata_whole_hash STREQUAL sonata_part_hash OR NOT a EQUAL b OR
     NOT EXISTS ${OUT}/sonata_part/spikes.h5)
    message(FATAL_ERROR "a resumed SONATA run recorded other spikes than the uninterrupted one")
  endif()
endif()

# A plastic network (STDP on E -> E): checkpointed at 50 and 100 ms with 2
# threads and resumed with 1, then with 1 and resumed with 2: the spikes and
# the plasticity figures (weight mean, range, updates) of the uninterrupted
# run. A resume with other rule parameters is refused, naming them.
set(stdp --preset stdp-balanced)
run_apical(TRUE ${stdp} --duration 150 --output ${OUT}/stdp_whole)
file(READ ${OUT}/stdp_whole/summary.json stdp_whole)
string(JSON stdp_whole GET "${stdp_whole}" plasticity)
file(SHA256 ${OUT}/stdp_whole/spikes.csv stdp_hash)
foreach(threads "2;1" "1;2")
  list(GET threads 0 before)
  list(GET threads 1 after)
  set(dir ${OUT}/stdp_${before}_${after})
  run_apical(TRUE ${stdp} --duration 100 --output ${dir} --checkpoint ${dir}/run.ckpt
             --checkpoint-every 50 --threads ${before} --force-threads)
  run_apical(TRUE ${stdp} --duration 150 --output ${dir} --resume ${dir}/run.ckpt
             --threads ${after} --force-threads)
  file(SHA256 ${dir}/spikes.csv hash)
  file(READ ${dir}/summary.json resumed)
  string(JSON resumed GET "${resumed}" plasticity)
  if(NOT hash STREQUAL stdp_hash OR NOT resumed STREQUAL stdp_whole)
    message(FATAL_ERROR "stdp-balanced checkpointed with ${before} threads and resumed with "
                        "${after}: other spikes or weights than the uninterrupted run: "
                        "${resumed}; expected ${stdp_whole}")
  endif()
endforeach()
run_apical(FALSE ${stdp} --duration 150 --output ${OUT}/stdp_1_2 --resume ${OUT}/stdp_1_2/run.ckpt
           --set plasticity.EE.a_plus=0.02)
expect_message("another network: the checkpoint has projection 0 'EE' weights: plasticity "
               "stdp_multiplicative, tau_plus_ms=20, tau_minus_ms=20, a_plus=0.01")
run_apical(FALSE ${stdp} --duration 150 --output ${OUT}/stdp_1_2 --resume ${OUT}/stdp_1_2/run.ckpt
           --no-plasticity)
expect_message("another network: the checkpoint has projection 0 'EE'.*synapse hash")

# A run killed (SIGKILL) during its run resumes from its last checkpoint
# to the spikes of the uninterrupted run. The run is killed as soon as its
# first checkpoint exists (renamed into place, so complete), however slow
# the build; should it finish first, the resume starts from the final
# checkpoint instead, and the comparison still holds.
set(killed ${OUT}/killed/run.ckpt)
# brunel-scaled at 1/10 (sustained activity, about 6 s of biology per
# second of CPU time in a Release build).
set(small --preset brunel-scaled --scale 0.1 --duration 3000)
string(JOIN " " small_args ${small})
execute_process(
  COMMAND bash -c "\"$0\" simulate ${small_args} --output \"$1\" --checkpoint \"$2\" \
--checkpoint-every 500 >/dev/null 2>&1 & pid=$!; \
for i in $(seq 1 1200); do [ -e \"$2\" ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done; \
kill -9 $pid 2>/dev/null; wait $pid; echo $?"
          ${APICAL} ${OUT}/killed ${killed}
  OUTPUT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
message(STATUS "the run to be killed ended with status ${rc} (137: killed)")
if(NOT EXISTS ${killed})
  message(FATAL_ERROR "no checkpoint was written (every 500 ms of biology) within 60 s")
endif()
run_apical(TRUE ${small} --output ${OUT}/killed --resume ${killed} --checkpoint ${killed}
           --checkpoint-every 500)
run_apical(TRUE ${small} --output ${OUT}/long)
file(SHA256 ${OUT}/long/spikes.csv long_hash)
file(SHA256 ${OUT}/killed/spikes.csv killed_hash)
if(NOT long_hash STREQUAL killed_hash)
  message(FATAL_ERROR "the run resumed after SIGKILL wrote other spikes than the uninterrupted one")
endif()
