#pragma once
// Labelled image sets held in memory, and the seeded ways to split and
// iterate them.
//
// Images are stored as one contiguous uint8 array, N x C x H x W: each image
// is C channel planes of H rows of W pixels (the CIFAR layout; MNIST has
// C = 1). Labels are class indices into class_names().
//
// Every shuffle here is a function of (seed, epoch) only, drawn from
// apical::rng with derive_seed(seed, stream::training, ...), so a split or a
// batch order is the same on every machine and standard library.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <vector>

namespace apical::datasets {

struct image_shape {
  std::size_t channels = 0;
  std::size_t height = 0;
  std::size_t width = 0;

  // Bytes per image.
  std::size_t size() const { return channels * height * width; }
  friend bool operator==(const image_shape&, const image_shape&) = default;
};

class dataset {
 public:
  dataset() = default;
  // Takes ownership of `pixels` (labels.size() * shape.size() bytes) and
  // `labels` (each < class_names.size()). Throws parameter_error naming the
  // field that does not fit.
  dataset(std::string name, image_shape shape, std::vector<std::string> class_names,
          std::vector<std::uint8_t> pixels, std::vector<std::uint8_t> labels);

  // e.g. "mnist train"
  const std::string& name() const { return name_; }
  const image_shape& shape() const { return shape_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  std::size_t class_count() const { return class_names_.size(); }

  std::size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  // Image i as C x H x W bytes; i < size().
  std::span<const std::uint8_t> image(std::size_t i) const {
    return {pixels_.data() + i * shape_.size(), shape_.size()};
  }
  std::uint8_t label(std::size_t i) const { return labels_[i]; }
  std::span<const std::uint8_t> pixels() const { return pixels_; }
  std::span<const std::uint8_t> labels() const { return labels_; }

  // Number of samples of each class, indexed by label.
  std::vector<std::size_t> label_histogram() const;
  // The samples at `indices`, in that order (indices may repeat).
  dataset subset(std::span<const std::size_t> indices, std::string name) const;
  // The first min(n, size()) samples.
  dataset head(std::size_t n) const;
  // Mean intensity of each channel over all images, in [0, 1].
  std::vector<double> channel_means() const;

 private:
  std::string name_;
  image_shape shape_;
  std::vector<std::string> class_names_;
  std::vector<std::uint8_t> pixels_;
  std::vector<std::uint8_t> labels_;
};

struct train_validation {
  dataset train;
  dataset validation;
};

// A uniformly random permutation of [0, n), a function of (seed, epoch) only.
std::vector<std::size_t> shuffled_indices(std::size_t n, std::uint64_t seed, std::uint64_t epoch);

// Holds out `validation_count` samples chosen by a seeded shuffle. With
// `stratified`, each class gives the same share (rounded so the total is
// exact), keeping the class balance of both parts. Each part keeps the
// original sample order. Throws parameter_error if validation_count > size().
train_validation split_validation(const dataset& data, std::size_t validation_count,
                                  std::uint64_t seed, bool stratified = false);

// The batches of one epoch: consecutive slices of a seeded permutation.
class epoch_batches {
 public:
  epoch_batches(std::vector<std::size_t> order, std::size_t batch_size, std::size_t batch_count);

  // Number of batches.
  std::size_t size() const { return batch_count_; }
  // Sample indices of batch b (< size()); the last one may be shorter.
  std::span<const std::size_t> operator[](std::size_t b) const;
  // The whole permutation of this epoch.
  std::span<const std::size_t> order() const { return order_; }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::span<const std::size_t>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const epoch_batches* owner, std::size_t b) : owner_(owner), b_(b) {}
    value_type operator*() const { return (*owner_)[b_]; }
    iterator& operator++() {
      ++b_;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++b_;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.b_ == b.b_; }

   private:
    const epoch_batches* owner_ = nullptr;
    std::size_t b_ = 0;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, batch_count_}; }

 private:
  std::vector<std::size_t> order_;
  std::size_t batch_size_;
  std::size_t batch_count_;
};

// Mini-batches over `sample_count` samples, reshuffled every epoch: epoch e
// visits the samples in shuffled_indices(sample_count, seed, e) order, so
// any epoch can be replayed on its own.
class batch_schedule {
 public:
  // Throws parameter_error if batch_size is 0.
  batch_schedule(std::size_t sample_count, std::size_t batch_size, std::uint64_t seed,
                 bool drop_last = false);

  std::size_t sample_count() const { return sample_count_; }
  std::size_t batch_size() const { return batch_size_; }
  // Batches per epoch (a short last batch is dropped with drop_last).
  std::size_t batch_count() const;
  epoch_batches epoch(std::uint64_t e) const;

 private:
  std::size_t sample_count_;
  std::size_t batch_size_;
  std::uint64_t seed_;
  bool drop_last_;
};

}  // namespace apical::datasets
