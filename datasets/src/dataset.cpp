#include "apical/datasets/dataset.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "apical/engine/error.hpp"
#include "apical/engine/random.hpp"

namespace apical::datasets {
namespace {

// Sub-stream of stream::training used by split_validation; batch orders use
// the epoch number, which never reaches this value.
constexpr std::uint64_t validation_split_sub_id = std::numeric_limits<std::uint64_t>::max();

void shuffle(std::vector<std::size_t>& v, rng& r) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(r.below(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace

dataset::dataset(std::string name, image_shape shape, std::vector<std::string> class_names,
                 std::vector<std::uint8_t> pixels, std::vector<std::uint8_t> labels)
    : name_(std::move(name)),
      shape_(shape),
      class_names_(std::move(class_names)),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)) {
  if (shape_.size() == 0) {
    throw parameter_error(
        fmt::format("dataset '{}': shape {}x{}x{} is empty; expected channels, "
                    "height and width > 0",
                    name_, shape_.channels, shape_.height, shape_.width));
  }
  if (class_names_.empty() || class_names_.size() > 256) {
    throw parameter_error(
        fmt::format("dataset '{}': {} class names; expected 1 to 256", name_, class_names_.size()));
  }
  if (pixels_.size() != labels_.size() * shape_.size()) {
    throw parameter_error(fmt::format(
        "dataset '{}': pixels holds {} bytes; expected {} labels x {} bytes per image = {}", name_,
        pixels_.size(), labels_.size(), shape_.size(), labels_.size() * shape_.size()));
  }
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] >= class_names_.size()) {
      throw parameter_error(fmt::format("dataset '{}': labels[{}] is {}; expected 0 to {}", name_,
                                        i, labels_[i], class_names_.size() - 1));
    }
  }
}

std::vector<std::size_t> dataset::label_histogram() const {
  std::vector<std::size_t> counts(class_names_.size(), 0);
  for (const std::uint8_t l : labels_) ++counts[l];
  return counts;
}

dataset dataset::subset(std::span<const std::size_t> indices, std::string name) const {
  std::vector<std::uint8_t> pixels;
  std::vector<std::uint8_t> labels;
  pixels.reserve(indices.size() * shape_.size());
  labels.reserve(indices.size());
  for (const std::size_t i : indices) {
    if (i >= size()) {
      throw parameter_error(
          fmt::format("dataset '{}': subset index {} is out of range; expected "
                      "below {}",
                      name_, i, size()));
    }
    const auto img = image(i);
    pixels.insert(pixels.end(), img.begin(), img.end());
    labels.push_back(labels_[i]);
  }
  return {std::move(name), shape_, class_names_, std::move(pixels), std::move(labels)};
}

dataset dataset::head(std::size_t n) const {
  n = std::min(n, size());
  return {
      name_, shape_, class_names_,
      std::vector<std::uint8_t>(pixels_.begin(),
                                pixels_.begin() + static_cast<std::ptrdiff_t>(n * shape_.size())),
      std::vector<std::uint8_t>(labels_.begin(), labels_.begin() + static_cast<std::ptrdiff_t>(n))};
}

std::vector<double> dataset::channel_means() const {
  std::vector<double> means(shape_.channels, 0.0);
  if (empty()) return means;
  const std::size_t plane = shape_.height * shape_.width;
  std::vector<std::uint64_t> sums(shape_.channels, 0);
  for (std::size_t i = 0; i < size(); ++i) {
    const auto img = image(i);
    for (std::size_t c = 0; c < shape_.channels; ++c) {
      const auto p = img.subspan(c * plane, plane);
      sums[c] += std::accumulate(p.begin(), p.end(), std::uint64_t{0});
    }
  }
  for (std::size_t c = 0; c < shape_.channels; ++c) {
    means[c] = static_cast<double>(sums[c]) / (static_cast<double>(size() * plane) * 255.0);
  }
  return means;
}

std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  rng r(derive_seed(seed, stream::training, epoch));
  shuffle(order, r);
  return order;
}

train_validation split_validation(const dataset& data, std::size_t validation_count,
                                  std::uint64_t seed, bool stratified) {
  if (validation_count > data.size()) {
    throw parameter_error(fmt::format(
        "split_validation: validation_count is {}, but dataset '{}' has only {} samples",
        validation_count, data.name(), data.size()));
  }
  rng r(derive_seed(seed, stream::training, validation_split_sub_id));
  std::vector<std::size_t> held_out;
  if (!stratified) {
    std::vector<std::size_t> order(data.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    shuffle(order, r);
    held_out.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(validation_count));
  } else {
    std::vector<std::vector<std::size_t>> by_class(data.class_count());
    for (std::size_t i = 0; i < data.size(); ++i) by_class[data.label(i)].push_back(i);
    // Largest-remainder quotas: class c gets floor(share) plus one of the
    // leftover places when its remainder is among the largest.
    std::vector<std::size_t> quota(by_class.size());
    std::vector<std::pair<std::uint64_t, std::size_t>> remainders;  // (remainder, class)
    std::size_t given = 0;
    for (std::size_t c = 0; c < by_class.size(); ++c) {
      // Exact for datasets below 2^32 samples (product < 2^64).
      const std::uint64_t scaled = std::uint64_t{by_class[c].size()} * validation_count;
      quota[c] = static_cast<std::size_t>(scaled / data.size());
      remainders.emplace_back(static_cast<std::uint64_t>(scaled % data.size()), c);
      given += quota[c];
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t k = 0; given < validation_count; ++k, ++given) ++quota[remainders[k].second];
    for (std::size_t c = 0; c < by_class.size(); ++c) {
      shuffle(by_class[c], r);
      held_out.insert(held_out.end(), by_class[c].begin(),
                      by_class[c].begin() + static_cast<std::ptrdiff_t>(quota[c]));
    }
  }
  std::sort(held_out.begin(), held_out.end());
  std::vector<std::size_t> kept;
  kept.reserve(data.size() - held_out.size());
  std::size_t h = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (h < held_out.size() && held_out[h] == i) {
      ++h;
    } else {
      kept.push_back(i);
    }
  }
  return {data.subset(kept, data.name() + " (train part)"),
          data.subset(held_out, data.name() + " (validation part)")};
}

epoch_batches::epoch_batches(std::vector<std::size_t> order, std::size_t batch_size,
                             std::size_t batch_count)
    : order_(std::move(order)), batch_size_(batch_size), batch_count_(batch_count) {}

std::span<const std::size_t> epoch_batches::operator[](std::size_t b) const {
  const std::size_t first = b * batch_size_;
  return std::span<const std::size_t>(order_).subspan(first,
                                                      std::min(batch_size_, order_.size() - first));
}

batch_schedule::batch_schedule(std::size_t sample_count, std::size_t batch_size, std::uint64_t seed,
                               bool drop_last)
    : sample_count_(sample_count), batch_size_(batch_size), seed_(seed), drop_last_(drop_last) {
  if (batch_size == 0) throw parameter_error("batch_schedule: batch_size is 0; expected >= 1");
}

std::size_t batch_schedule::batch_count() const {
  return drop_last_ ? sample_count_ / batch_size_ : (sample_count_ + batch_size_ - 1) / batch_size_;
}

epoch_batches batch_schedule::epoch(std::uint64_t e) const {
  return {shuffled_indices(sample_count_, seed_, e), batch_size_, batch_count()};
}

}  // namespace apical::datasets
