#pragma once
// How well two updates agree: the cosine of the angle between them, taken
// over all entries of a layer's update flattened into one vector (double
// accumulation). Used to compare FA/SC-FA/microcircuit updates with BP's.
#include <span>
#include <vector>

#include "apical/learning/reference/matrix.hpp"
#include "apical/learning/reference/reference_trainer.hpp"

namespace apical::learning {

// a.b / (|a| |b|); NaN when either vector is all zeros. Throws
// parameter_error when the sizes differ.
double cosine_similarity(std::span<const float> a, std::span<const float> b);
double cosine_similarity(const_matrix_view a, const_matrix_view b);

// The angle between a and b in degrees, in [0, 180]; NaN when either is 0.
double alignment_angle_deg(std::span<const float> a, std::span<const float> b);
double alignment_angle_deg(const_matrix_view a, const_matrix_view b);

// Per weight layer, the angle between the weight updates of a and b
// (biases are not included).
std::vector<double> alignment_angles_deg(const weight_updates& a, const weight_updates& b);

}  // namespace apical::learning
