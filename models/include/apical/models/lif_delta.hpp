#pragma once
// lif_delta: leaky integrate-and-fire neuron with delta synapses.
//
//   tau_m dV/dt = E_L - V
//   input of weight w at time t:  V <- V + w      (ignored while refractory)
//   V >= V_th:  spike, V <- V_reset, clamped for t_ref
//
// Between inputs V relaxes exponentially to E_L, so the next threshold
// crossing is known in closed form: if E_L > V_th (a suprathreshold resting
// potential, as in Brette et al. 2007, benchmark 4), the neuron crosses at
//   t* = tau_m ln((E_L - V0) / (E_L - V_th));
// otherwise only an input can make it fire, at the instant of that input.
//
// The state holds the trajectory, not V at the last update:
//   V(t) = E_L + w e^{-(t - G)/tau_m}       (t at or after ref_until_ms),
// anchored at G = cell * grid_ms, a multiple of grid_ms = tau_m / 64 that
// follows t. An input of weight w_in at t adds w_in e^{(t - G)/tau_m}, a
// factor in [1, e^{1/64}) that a short polynomial gives to full precision
// (growth()), so that no input costs an exponential. Moving the anchor by k
// cells multiplies w by e^{-k/64} (from a table). Only a spike (the reset's
// trajectory) and the values shown to recorders (observe()) take an exp.
// w is kept on a grid of 2^-41 mV (about 4.5e-13 mV): every value added to
// it or written into it is rounded to that grid (quantize()), so sums of
// inputs are exact and do not depend on their order (while |w| < 1 V).
// The arithmetic depends on the input times alone, never on when the engine
// looks at the neuron or in which order it adds the inputs of one cell:
// every delivery path gives the same bits.
//
// | name          | unit | default | meaning                              |
// |---------------|------|---------|--------------------------------------|
// | tau_m_ms      | ms   | 20      | membrane time constant               |
// | e_l_mv        | mV   | -70     | resting (leak reversal) potential    |
// | v_th_mv       | mV   | -55     | threshold                            |
// | v_reset_mv    | mV   | -70     | reset potential                      |
// | t_ref_ms      | ms   | 2       | absolute refractory period           |
// | v_init_min_mv | mV   | -70     | initial V drawn uniformly from       |
// | v_init_max_mv | mV   | -70     |   [v_init_min_mv, v_init_max_mv]     |
//
// State: v_mv (membrane potential, kept for recorders), ref_until_ms (end of
// refractoriness); internal: w_mv, cell (the trajectory, see above).
// References: Brette et al. (2007) J Comput Neurosci 23:349; Brunel (2000)
// J Comput Neurosci 8:183.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "apical/engine/neuron_model.hpp"
#include "apical/engine/scheduler.hpp"
#include "apical/engine/window.hpp"
#include "apical/models/lif_common.hpp"

namespace apical::models {

struct lif_delta {
  static constexpr std::string_view name = "lif_delta";
  static constexpr int compartments = 1;

  struct parameters {
    double tau_m_ms = 20.0;
    double e_l_mv = -70.0;
    double v_th_mv = -55.0;
    double v_reset_mv = -70.0;
    double t_ref_ms = 2.0;
    double v_init_min_mv = -70.0;
    double v_init_max_mv = -70.0;
  };
  struct derived {
    parameters p;
    // Crossings further away than this are reported provisionally: most are
    // moved by later input before they happen (see predict()).
    double horizon_ms = 0.0;
    double decay_h = 0.0;  // exp(-horizon_ms / tau_m_ms)
    double grid_ms = 0.0;  // tau_m / cells_per_tau
    double inv_grid = 0.0;
    double inv_tau = 0.0;
    double gap_mv = 0.0;                    // v_th - e_l
    double growth_max = 0.0;                // above every growth() value
    std::array<double, 65> cell_decay{};    // e^{-k / cells_per_tau}
  };
  struct state {
    double v_mv = 0.0;  // V at the latest observe() (recorders)
    double ref_until_ms = -inf;
    double w_mv = 0.0;  // V(t) = E_L + w_mv e^{-(t - cell grid_ms) / tau_m}
    double cell = 0.0;
  };
  static constexpr double cells_per_tau = 64.0;

  // e^x for x in [0, 1/64] (and tiny negative x from rounding): Taylor to
  // degree 7 (truncation error below 1e-19 relative), evaluated in
  // Estrin's scheme (three levels of multiply-adds instead of seven
  // dependent ones: this sits on every input's critical path).
  [[gnu::always_inline]] static double growth(double x) {
    const double x2 = x * x;
    const double x4 = x2 * x2;
    const double p01 = 1.0 + x;
    const double p23 = 0.5 + x * (1.0 / 6);
    const double p45 = 1.0 / 24 + x * (1.0 / 120);
    const double p67 = 1.0 / 720 + x * (1.0 / 5040);
    return (p01 + x2 * p23) + x4 * (p45 + x2 * p67);
  }
  // The factor e^{(t - G)/tau} of an input at t with the anchor in `cell`.
  [[gnu::always_inline]] static double growth_in_cell(const derived& d, double t_ms,
                                                      double cell) {
    return growth((t_ms - cell * d.grid_ms) * d.inv_tau);
  }
  // The same with the state's anchor (t's cell).
  [[gnu::always_inline]] static double growth_at(const state& s, const derived& d, double t_ms) {
    return growth_in_cell(d, t_ms, s.cell);
  }
  // x rounded to the nearest multiple of 2^-41 mV, the grid of w: for
  // |x| < 2^10 mV, x + 1.5 * 2^11 has exactly that spacing, so the sum
  // rounds x there and the difference is exact. (Beyond 1 V the spacing
  // grows; the result stays on the grid.) Compiled without FP contraction,
  // so no multiply-add fuses into it.
  [[gnu::always_inline]] static double quantize(double x) {
    constexpr double shift = 0x1.8p11;
    return (x + shift) - shift;
  }
  // w after the anchor moved on by `cells` cells (0: unchanged on the grid).
  [[gnu::always_inline]] static double moved(const derived& d, double w, double cells) {
    const double f = cells >= 0 && cells < static_cast<double>(d.cell_decay.size())
                         ? d.cell_decay[static_cast<std::size_t>(cells)]
                         : std::exp(-cells / cells_per_tau);
    return quantize(w * f);
  }
  // Moves the anchor to the cell of t_ms (times only grow: t_ms / grid >=
  // cell). Without a branch on whether the cell changed: an input lands in
  // a new cell about as often as not, which a branch would mispredict, and
  // staying in the cell multiplies by cell_decay[0] = 1, which leaves w on
  // the grid unchanged (for |w| < 1 V, where quantize() is exact).
  [[gnu::always_inline]] static void rebase(state& s, const derived& d, double t_ms) {
    const double c = std::floor(t_ms * d.inv_grid);
    s.w_mv = moved(d, s.w_mv, c - s.cell);
    s.cell = c;
  }

  static std::span<const field<parameters>> parameter_fields() {
    static constexpr field<parameters> f[] = {
        {"tau_m_ms", &parameters::tau_m_ms, "ms", "membrane time constant"},
        {"e_l_mv", &parameters::e_l_mv, "mV", "resting potential"},
        {"v_th_mv", &parameters::v_th_mv, "mV", "threshold"},
        {"v_reset_mv", &parameters::v_reset_mv, "mV", "reset potential"},
        {"t_ref_ms", &parameters::t_ref_ms, "ms", "refractory period"},
        {"v_init_min_mv", &parameters::v_init_min_mv, "mV", "lower bound of the initial V"},
        {"v_init_max_mv", &parameters::v_init_max_mv, "mV", "upper bound of the initial V"}};
    return f;
  }
  static std::span<const field<state>> state_fields() {
    static constexpr field<state> f[] = {
        {"v_mv", &state::v_mv, "mV", "membrane potential"},
        {"ref_until_ms", &state::ref_until_ms, "ms", "end of the refractory period"}};
    return f;
  }

  static derived derive(const parameters& p) {
    require_finite<lif_delta>(p);
    require(p.tau_m_ms > 0, name, "tau_m_ms", p.tau_m_ms, "must be > 0");
    require_reset_and_start(name, p);
    derived d{p, p.tau_m_ms, std::exp(-1.0)};
    d.grid_ms = p.tau_m_ms / cells_per_tau;
    d.inv_grid = 1.0 / d.grid_ms;
    d.inv_tau = 1.0 / p.tau_m_ms;
    d.gap_mv = p.v_th_mv - p.e_l_mv;
    d.growth_max = std::exp(1.0 / cells_per_tau) * (1.0 + 1e-12);
    for (std::size_t k = 0; k < d.cell_decay.size(); ++k)
      d.cell_decay[k] = std::exp(-static_cast<double>(k) / cells_per_tau);
    return d;
  }

  static void init(state& s, const derived& d, rng& r) {
    s.v_mv = d.p.v_init_min_mv == d.p.v_init_max_mv
                 ? d.p.v_init_min_mv
                 : r.uniform(d.p.v_init_min_mv, d.p.v_init_max_mv);
    s.ref_until_ms = -inf;
    s.w_mv = quantize(s.v_mv - d.p.e_l_mv);  // anchored at t = 0, cell 0
    s.cell = 0.0;
  }

  static void advance(state& s, const derived& d, double, double to_ms) { rebase(s, d, to_ms); }

  // V at t_ms (the state advanced to t_ms) into v_mv, for recorders.
  static void observe(state& s, const derived& d, double t_ms) {
    s.v_mv = t_ms < s.ref_until_ms
                 ? d.p.v_reset_mv
                 : d.p.e_l_mv + s.w_mv * std::exp(-(t_ms - s.cell * d.grid_ms) * d.inv_tau);
  }

  [[gnu::always_inline]] static void receive(state& s, const derived& d, int, double weight, double t_ms) {
    if (t_ms < s.ref_until_ms) return;
    s.w_mv += quantize(weight * growth_at(s, d, t_ms));
  }

  // What rebase() and receive() compute from an input's time alone, once
  // for all targets of a delivery (neuron_model.hpp's at_time): the cell
  // of t and the growth factor of an input at t with the anchor there.
  struct input_time {
    double t_ms;
    double cell;
    double growth;
  };
  static input_time at_time(const derived& d, double t_ms) {
    const double c = std::floor(t_ms * d.inv_grid);
    return {t_ms, c, growth_in_cell(d, t_ms, c)};
  }
  // advance() to at.t_ms and receive() at it, with their arithmetic.
  [[gnu::always_inline]] static void advance_at(state& s, const derived& d, double,
                                                const input_time& at) {
    s.w_mv = moved(d, s.w_mv, at.cell - s.cell);
    s.cell = at.cell;
  }
  [[gnu::always_inline]] static void receive_at(state& s, const derived& d, int, double weight,
                                                const input_time& at) {
    if (at.t_ms < s.ref_until_ms) return;
    // (A state advanced to t by another path is anchored in t's cell too,
    // but the factor of any other anchor is computed as receive() would.)
    const double g = s.cell == at.cell ? at.growth : growth_in_cell(d, at.t_ms, s.cell);
    s.w_mv += quantize(weight * g);
  }

  // Where the free trajectory starts (t_ms, or the end of refractoriness)
  // and V - E_L there.
  static void start_of(const state& s, const derived& d, double t_ms, double& start, double& u) {
    if (t_ms < s.ref_until_ms) {
      start = s.ref_until_ms;
      u = d.p.v_reset_mv - d.p.e_l_mv;
      return;
    }
    start = t_ms;
    u = s.w_mv / growth_at(s, d, t_ms);
  }

  static double next_spike(const state& s, const derived& d, double t_ms) {
    double start, u;
    start_of(s, d, t_ms, start, u);
    if (u >= d.gap_mv) return start;
    if (d.gap_mv >= 0) return inf;
    return start + d.p.tau_m_ms * std::log(u / d.gap_mv);
  }

  // Exact within the horizon, provisional beyond it; V at the end of the
  // horizon tells which, so the logarithm is only taken when needed.
  [[gnu::always_inline]] static spike_prediction predict(const state& s, const derived& d, double t_ms) {
    if (d.gap_mv >= 0) {
      // Subthreshold rest: a crossing only at an input. w below the gap
      // (growth() >= 1) decides most cases without the factor.
      if (t_ms < s.ref_until_ms || s.w_mv < d.gap_mv * (1.0 - 0x1.0p-50)) return {inf, true};
      return {s.w_mv >= d.gap_mv * growth_at(s, d, t_ms) ? t_ms : inf, true};
    }
    // Suprathreshold rest (gap < 0, w < 0 below threshold): far below,
    // V at the horizon stays below threshold for any factor the anchor can
    // give (at most growth_max), which decides most cases without it.
    if (!(t_ms < s.ref_until_ms) && s.w_mv * d.decay_h < d.gap_mv * d.growth_max)
      return {t_ms + d.horizon_ms, false};
    double start, u;
    start_of(s, d, t_ms, start, u);
    if (u >= d.gap_mv) return {start, true};
    if (u * d.decay_h < d.gap_mv) return {start + d.horizon_ms, false};
    return {start + d.p.tau_m_ms * std::log(u / d.gap_mv), true};
  }

  // The windowed path's own loop (neuron_model.hpp): for a subthreshold
  // resting potential (crossings only at inputs) and at most one Poisson
  // input, the engine's loop with everything inlined and no indirection.
  // What receive() and rebase() compute from an input's time alone is
  // computed once per delivery for all its targets (window_prepare) and
  // once per drive spike: the cell floor(t / grid) that rebase() moves the
  // anchor to, and the increment quantize(weight * growth_at()) for an
  // anchor in that cell (for per-entry weights: the growth factor alone),
  // and the increment's share of the bound that settles a neuron (below).
  struct prepared_input {
    double time_ms;
    double add;
    double cell;
    double bound;
  };
  static_assert(sizeof(prepared_input) ==
                window_inputs::delivery_scratch_per_delivery * sizeof(double));
  // floor(t / grid), as rebase() computes it (t >= 0: truncation is floor).
  [[gnu::always_inline]] static double cell_of(const derived& d, double t_ms) {
    return static_cast<double>(static_cast<std::int64_t>(t_ms * d.inv_grid));
  }
  // A neuron is settled without the merge when the window spans at most
  // this many cells (see run_window).
  static constexpr std::size_t settle_cells = 16;
  // The smallest factor by which the anchor's moves inside the window can
  // shrink an input: e^{-span/64}, span the cells the window may touch
  // (zero when it spans more than settle_cells: no settling then).
  static double window_decay(const derived& d, const window_inputs& in) {
    const double span = cell_of(d, in.t_end) - cell_of(d, in.t_begin);
    if (!(in.t_begin >= 0 && span < static_cast<double>(settle_cells))) return 0.0;
    return d.cell_decay[static_cast<std::size_t>(span)] * (1.0 - 0x1.0p-40);
  }
  // The settling bin of a cell (cells counted from the window's first, c0;
  // through int64, so that a cell before c0, which settling never uses,
  // converts without undefined behaviour).
  [[gnu::always_inline]] static std::uint32_t bin_of(double cell, double c0) {
    return static_cast<std::uint32_t>(static_cast<std::int64_t>(cell - c0)) &
           static_cast<std::uint32_t>(settle_cells - 1);
  }
  // An increment's share of the bound: all of it when positive, the part
  // of it that certainly remains at the end of the window when negative.
  [[gnu::always_inline]] static double bound_share(double add, double decay) {
    return add < 0 ? add * decay : add;
  }
  static bool window_prepare(const derived& d, const window_inputs& in) {
    if (!(d.gap_mv >= 0 && in.drives.size() <= 1 && in.neuron_scratch)) return false;
    auto* prepared = reinterpret_cast<prepared_input*>(in.delivery_scratch);
    const double decay = window_decay(d, in);
    for (std::size_t k = 0; k < in.deliveries.size(); ++k) {
      const double t = in.deliveries[k].time_ms;
      if (!(t >= 0 && t < 0x1.0p52 * d.grid_ms)) return false;  // (cell_of's range)
      const double c = cell_of(d, t);
      const double g = growth_in_cell(d, t, c);
      const double add =
          in.weight ? g : quantize(static_cast<double>(in.deliveries[k].weight) * g);
      prepared[k] = {t, add, c, bound_share(add, decay)};
    }
    return true;
  }

  // One neuron through the window. Its Poisson input's spikes in the
  // window are drawn first (the train does not depend on the neuron) and
  // prepared like deliveries.
  //
  // Most neurons cannot fire in a given window. A bound tells which: the
  // positive part of w at the start, plus every positive drive increment,
  // plus the largest partial sum of the slice's increments (negative ones
  // counted only with what of them certainly remains, see window_decay)
  // is above w at every input. When it stays below the threshold (with a
  // margin for rounding), the neuron is settled: w at the end is computed
  // cell by cell from the increments' sums per cell, which equals the
  // event loop's input-by-input result bit for bit, because the increments
  // and w are on the grid of quantize() (exact, order-free sums) and the
  // anchor moves at the same cells by the same factors.
  //
  // Otherwise the same bound, checked cell by cell, settles the neuron up
  // to the first cell where it may cross, and from that cell's first
  // input on the event loop's advance / receive / predict / fire runs
  // over the slice, with the drive's spikes taken in between (slice first
  // at equal times, event.hpp's order). The inputs, their order and the
  // arithmetic on the state are those of the event loop, so the spikes
  // are too.
  static void run_window(const derived& d, const window_inputs& in, std::size_t k,
                         window_neuron<state>& n, scheduler& sched, std::vector<fired_spike>& out,
                         window_counts& counts) {
    if (in.delivery16)
      run_slice(d, in, k, in.delivery16 + in.begin[k], n, sched, out, counts);
    else
      run_slice(d, in, k, in.delivery32 + in.begin[k], n, sched, out, counts);
  }
  // run_window with the slice's delivery indices (16 or 32 bits wide).
  template <class Index>
  [[gnu::always_inline]] static void run_slice(const derived& d, const window_inputs& in,
                                               std::size_t k, const Index* idx,
                                               window_neuron<state>& n, scheduler& sched,
                                               std::vector<fired_spike>& out,
                                               window_counts& counts) {
    const double t_end = in.t_end;
    const std::uint32_t i = n.index;

    // The slice.
    const std::size_t n_slice = in.begin[k + 1] - in.begin[k];
    const auto* prepared = reinterpret_cast<const prepared_input*>(in.delivery_scratch);
    const float* weights = in.weight ? in.weight + in.begin[k] : nullptr;
    // Entry a's increment with per-entry weights (the prepared growth factor
    // times the weight, on the grid).
    const auto weighted_add = [&](std::size_t a) {
      return quantize(static_cast<double>(weights[a]) * prepared[idx[a]].add);
    };
    const double decay = window_decay(d, in);
    const double c0 = cell_of(d, in.t_begin);

    // The drive's spikes in the window, prepared in `room` (three arrays of
    // `capacity`: times, cells, increments) in three passes: the times (the
    // random stream in registers, a loop carried only by the stream and t),
    // then each spike's cell and increment (independent: vectorised), then
    // the per-cell sums and bound (see settle).
    const drive_view* drive = in.drives.empty() ? nullptr : &in.drives[0];
    std::size_t m = 0;
    cell_sums drive_sums;
    const double* drive_time = nullptr;
    const double* drive_cell = nullptr;
    const double* drive_add = nullptr;
    if (drive) {
      std::vector<double>& room = *in.neuron_scratch;
      if (room.size() < 3 * 64) room.resize(3 * 64);
      std::size_t capacity = room.size() / 3;
      const drive_view train = *drive;  // (a copy: no store below aliases it)
      rng stream = train.generators[i];
      double t = drive->next_ms[i];
      double* times = room.data();
      while (t < t_end) {
        if (m == capacity) [[unlikely]] {
          // (the times so far stay at the front)
          room.resize(2 * room.size());
          times = room.data();
          capacity = room.size() / 3;
        }
        times[m++] = t;
        t = train.draw_after(stream, t);
      }
      train.generators[i] = stream;
      train.next_ms[i] = t;
      const double* __restrict time_of = times;
      double* __restrict cells = times + capacity;
      double* __restrict adds = times + 2 * capacity;
      const double w = static_cast<double>(train.weight);
      for (std::size_t j = 0; j < m; ++j) {
        cells[j] = cell_of(d, time_of[j]);
        adds[j] = quantize(w * growth_in_cell(d, time_of[j], cells[j]));
      }
      double total = 0.0, drive_bound = 0.0;  // (in registers)
      std::uint32_t touched = 0;
      for (std::size_t j = 0; j < m; ++j) {
        drive_bound += std::max(adds[j], 0.0);
        total += adds[j];
        const auto bin = bin_of(cells[j], c0);
        drive_sums.total[bin] = total;
        drive_sums.peak[bin] = drive_bound;
        touched |= std::uint32_t{1} << bin;
      }
      drive_sums.touched = touched;
      drive_sums.bound = drive_bound;
      drive_time = times;
      drive_cell = cells;
      drive_add = adds;
      if (m > 0 && train.sparse && t < inf)
        sched.schedule(event{time_ms{t}, i, 0, train.event_target, event_kind::delivery});
      counts.drive_inputs += m;
    }

    // The inputs from a0 (slice) and j0 (drive) on go through the merge;
    // those before are settled.
    std::size_t a0 = 0, j0 = 0;
    if (decay > 0 && n.queued >= t_end && n_slice + m > 0) {
      const double first =
          std::min(n_slice > 0 ? prepared[idx[0]].time_ms : inf, m > 0 ? drive_time[0] : inf);
      if (n.state.ref_until_ms <= first && first >= in.t_begin) {
        const std::uint32_t open =
            settle(d, n,
                   weights ? settle_sums(idx, n_slice, prepared, c0,
                                         [&](std::size_t a) {
                                           const double add = weighted_add(a);
                                           return std::pair{add, bound_share(add, decay)};
                                         })
                           : settle_sums(idx, n_slice, prepared, c0,
                                         [&](std::size_t a) {
                                           const prepared_input& p = prepared[idx[a]];
                                           return std::pair{p.add, p.bound};
                                         }),
                   drive_sums, c0);
        if (open == settle_cells) {
          const double last = std::max(n_slice > 0 ? prepared[idx[n_slice - 1]].time_ms : -inf,
                                       m > 0 ? drive_time[m - 1] : -inf);
          n.t_last = last;
          n.predicted = inf;
          n.slack = -1.0f;
          ++counts.settled;
          return;
        }
        // Settled up to the cell `open` (bins are cells from c0 here).
        while (a0 < n_slice && prepared[idx[a0]].cell < c0 + open) ++a0;
        while (j0 < m && drive_cell[j0] < c0 + open) ++j0;
        if (a0 + j0 > 0) {
          ++counts.settled_in_part;
          n.t_last = std::max(a0 > 0 ? prepared[idx[a0 - 1]].time_ms : -inf,
                              j0 > 0 ? drive_time[j0 - 1] : -inf);
          n.predicted = inf;
          n.slack = -1.0f;
        }
      }
    }

    // The neuron, by value (no address of it escapes, so the compiler keeps
    // it in registers), written back at the end.
    run_state r{n.state, n.t_last, n.predicted, n.queued, n.version, n.slack < 0};
    const double below_gap = d.gap_mv * (1.0 - 0x1.0p-50);
    // add() gives the input's increment, read after the crossings before
    // it (a spike there may revise its weight, window_inputs::revise).
    const auto take = [&](double t_in, double cell, auto add) __attribute__((always_inline)) {
      if (r.queued < t_in) [[unlikely]]
        r = crossings_before(d, r, t_in, in, k, i, out, counts);
      // The anchor moves to the input's cell, as rebase() would move it
      // (times only grow).
      if (cell != r.s.cell) {
        r.s.w_mv = moved(d, r.s.w_mv, cell - r.s.cell);
        r.s.cell = cell;
      }
      r.t_last = t_in;
      // receive(), then predict() for a subthreshold rest
      r.certain = true;
      r.predicted = inf;
      if (t_in < r.s.ref_until_ms) return;
      r.s.w_mv += add();
      if (r.s.w_mv < below_gap) return;
      if (r.s.w_mv >= d.gap_mv * growth_at(r.s, d, t_in)) {
        r.predicted = t_in;
        if (t_in < r.queued) {  // a crossing now, inside the window
          ++r.version;
          r.queued = t_in;
        }
      }
    };
    // The merge, for uniform weights (the prepared increment) or per-entry
    // ones (the weight times the prepared growth factor).
    const auto run = [&](auto add_of) __attribute__((always_inline)) {
      std::size_t a = a0;
      const auto entry = [&] { return add_of(a); };
      for (std::size_t j = j0; j < m; ++j) {
        const double tj = drive_time[j];
        for (; a < n_slice && !(tj < prepared[idx[a]].time_ms); ++a)
          take(prepared[idx[a]].time_ms, prepared[idx[a]].cell, entry);
        take(tj, drive_cell[j], [&] { return drive_add[j]; });
      }
      for (; a < n_slice; ++a) take(prepared[idx[a]].time_ms, prepared[idx[a]].cell, entry);
    };
    if (weights) {
      run(weighted_add);
    } else {
      run([&](std::size_t a) { return prepared[idx[a]].add; });
    }
    if (r.queued < t_end) r = crossings_before(d, r, t_end, in, k, i, out, counts);

    n.state = r.s;
    n.t_last = r.t_last;
    n.predicted = r.predicted;
    n.queued = r.queued;
    n.slack = r.certain ? -1.0f : 0.0f;
    n.version = r.version;
  }

  // Running totals of a time-ordered sequence of increments at the end of
  // each cell it touches (cells counted from the window's first), from
  // which each cell's sum follows by a difference; all exact on the grid.
  struct cell_sums {
    std::array<double, settle_cells> total{};
    std::array<double, settle_cells> peak{};  // the running bound there
    std::uint32_t touched = 0;
    double bound = 0.0;  // the running bound at the end (the largest, >= 0)
  };
  template <class Index, class AddOf>
  [[gnu::always_inline]] static cell_sums settle_sums(const Index* idx, std::size_t n,
                                                      const prepared_input* prepared, double c0,
                                                      AddOf add_of) {
    cell_sums s;
    double total = 0.0, partial = 0.0, bound = 0.0;  // (in registers)
    std::uint32_t touched = 0;
    for (std::size_t a = 0; a < n; ++a) {
      const auto [add, share] = add_of(a);
      total += add;
      partial += share;
      bound = std::max(bound, partial);
      const auto c = bin_of(prepared[idx[a]].cell, c0);
      s.total[c] = total;
      s.peak[c] = bound;
      touched |= std::uint32_t{1} << c;
    }
    s.bound = bound;
    s.touched = touched;
    return s;
  }
  // Settles the neuron as far as the bound allows (see run_window): w
  // through the window, cell by cell, up to the first cell (its bin)
  // whose inputs may make it cross, which it returns (settle_cells when
  // none may: the whole window is settled).
  static std::uint32_t settle(const derived& d, window_neuron<state>& n, const cell_sums& slice,
                              const cell_sums& drive, double c0) {
    const double limit = d.gap_mv * (1.0 - 0x1.0p-50) - 1e-9 * (1.0 + d.gap_mv);
    double w = n.state.w_mv;
    const double start = std::max(w, 0.0);
    auto open = static_cast<std::uint32_t>(settle_cells);
    if (!(start + drive.bound + slice.bound < limit)) {
      // The same per cell, with the start's decay up to it.
      double slice_peak = 0.0, drive_peak = 0.0;
      for (std::uint32_t bits = slice.touched | drive.touched; bits != 0; bits &= bits - 1) {
        const auto c = static_cast<std::uint32_t>(std::countr_zero(bits));
        if (slice.touched >> c & 1) slice_peak = slice.peak[c];
        if (drive.touched >> c & 1) drive_peak = drive.peak[c];
        const double cells = c0 + c - n.state.cell;
        if (!(cells >= 0)) return 0;  // (a state from the future: none to settle)
        const double decayed = cells < static_cast<double>(d.cell_decay.size())
                                   ? start * d.cell_decay[static_cast<std::size_t>(cells)]
                                   : start;
        if (!(decayed + slice_peak + drive_peak < limit)) {
          open = c;
          break;
        }
      }
    }
    double cell = n.state.cell;
    double slice_before = 0.0, drive_before = 0.0;
    const std::uint32_t below = open == settle_cells ? ~std::uint32_t{0} : (1u << open) - 1;
    for (std::uint32_t bits = (slice.touched | drive.touched) & below; bits != 0;
         bits &= bits - 1) {
      const auto c = static_cast<std::uint32_t>(std::countr_zero(bits));
      const double here = c0 + c;
      if (here != cell) w = moved(d, w, here - cell);
      cell = here;
      double sum = 0.0;
      if (slice.touched >> c & 1) {
        sum += slice.total[c] - slice_before;
        slice_before = slice.total[c];
      }
      if (drive.touched >> c & 1) {
        sum += drive.total[c] - drive_before;
        drive_before = drive.total[c];
      }
      w += sum;
    }
    n.state.w_mv = w;
    n.state.cell = cell;
    return open;
  }

  // A neuron in the window loop.
  struct run_state {
    state s;
    double t_last, predicted, queued;
    std::uint32_t version;
    bool certain;
  };
  // The crossing events before t_in (and before t_end), as the event loop
  // handles them: inputs of an instant precede its threshold check, so a
  // crossing found at an input fires once the inputs of that instant are in
  // (if the prediction still stands). A spike may revise the weights of
  // the neuron's later inputs (window_inputs::revise).
  [[gnu::noinline]] static run_state crossings_before(const derived& d, run_state r, double t_in,
                                                      const window_inputs& in, std::size_t k,
                                                      std::uint32_t i,
                                                      std::vector<fired_spike>& out,
                                                      window_counts& counts) {
    const double t_end = in.t_end;
    while (r.queued < t_in && r.queued < t_end) {
      const double tq = r.queued;
      r.queued = inf;
      if (r.predicted > tq) {
        // An earlier prediction's event: the latest one stands (see
        // model_population::requeue_before). Below threshold at rest, a
        // finite prediction is the time of an input already taken, inside
        // the window: this loop takes it.
        ++counts.reexamined;
        if (r.predicted < inf) {
          ++r.version;
          r.queued = r.predicted;
        }
        continue;
      }
      if (r.t_last < tq) {
        rebase(r.s, d, tq);
        r.t_last = tq;
      }
      if (r.predicted != tq || !r.certain) {
        ++counts.reexamined;
      } else {
        fire(r.s, d, tq);
        out.push_back({tq, i});
        // (It ignores its inputs until ref_until_ms: their weights are
        // not needed.)
        if (in.revise) in.revise(k, tq, r.s.ref_until_ms);
      }
      const spike_prediction p = predict(r.s, d, tq);
      r.predicted = p.time_ms;
      r.certain = true;
      if (p.time_ms < r.queued) {
        ++r.version;
        r.queued = p.time_ms;
      }
    }
    return r;
  }

  static void fire(state& s, const derived& d, double t_ms) {
    s.v_mv = d.p.v_reset_mv;
    s.ref_until_ms = t_ms + d.p.t_ref_ms;
    // The reset's trajectory from the end of refractoriness, anchored at
    // the current cell.
    s.w_mv = quantize((d.p.v_reset_mv - d.p.e_l_mv) *
                      std::exp((s.ref_until_ms - s.cell * d.grid_ms) * d.inv_tau));
  }
};

}  // namespace apical::models
