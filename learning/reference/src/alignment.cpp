#include "apical/learning/reference/alignment.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "apical/engine/error.hpp"

namespace apical::learning {

double cosine_similarity(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) {
    throw parameter_error("cosine_similarity: sizes " + std::to_string(a.size()) + " and " +
                          std::to_string(b.size()) + ", expected equal sizes");
  }
  double dot = 0.0;
  double norm_a = 0.0;
  double norm_b = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    norm_a += static_cast<double>(a[i]) * a[i];
    norm_b += static_cast<double>(b[i]) * b[i];
  }
  if (norm_a == 0.0 || norm_b == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return std::clamp(dot / (std::sqrt(norm_a) * std::sqrt(norm_b)), -1.0, 1.0);
}

double cosine_similarity(const_matrix_view a, const_matrix_view b) {
  if (a.rows != b.rows || a.cols != b.cols) {
    throw parameter_error("cosine_similarity: shapes " + std::to_string(a.rows) + "x" +
                          std::to_string(a.cols) + " and " + std::to_string(b.rows) + "x" +
                          std::to_string(b.cols) + ", expected equal shapes");
  }
  return cosine_similarity(std::span<const float>(a.data, a.size()),
                           std::span<const float>(b.data, b.size()));
}

double alignment_angle_deg(std::span<const float> a, std::span<const float> b) {
  return std::acos(cosine_similarity(a, b)) * 180.0 / std::numbers::pi;
}

double alignment_angle_deg(const_matrix_view a, const_matrix_view b) {
  return std::acos(cosine_similarity(a, b)) * 180.0 / std::numbers::pi;
}

std::vector<double> alignment_angles_deg(const weight_updates& a, const weight_updates& b) {
  if (a.weights.size() != b.weights.size()) {
    throw parameter_error("alignment_angles_deg: " + std::to_string(a.weights.size()) + " and " +
                          std::to_string(b.weights.size()) + " layers, expected equal counts");
  }
  std::vector<double> angles;
  for (std::size_t w = 0; w < a.weights.size(); ++w) {
    angles.push_back(alignment_angle_deg(a.weights[w].view(), b.weights[w].view()));
  }
  return angles;
}

}  // namespace apical::learning
