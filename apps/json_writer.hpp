#pragma once
// A minimal streaming JSON writer for reports (summary.json, metrics.json):
// objects, arrays, strings, numbers (non-finite numbers become null).
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace apical::app {

class json_writer {
 public:
  json_writer& begin_object(std::string_view key = {}) { return open(key, '{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array(std::string_view key = {}) { return open(key, '['); }
  json_writer& end_array() { return close(']'); }

  json_writer& value(std::string_view key, double v) {
    prefix(key);
    out_ += std::isfinite(v) ? fmt::format("{:.17g}", v) : "null";
    return *this;
  }
  json_writer& value(std::string_view key, std::uint64_t v) {
    prefix(key);
    out_ += std::to_string(v);
    return *this;
  }
  json_writer& value(std::string_view key, std::int64_t v) {
    prefix(key);
    out_ += std::to_string(v);
    return *this;
  }
  json_writer& value(std::string_view key, bool v) {
    prefix(key);
    out_ += v ? "true" : "false";
    return *this;
  }
  json_writer& value(std::string_view key, std::string_view v) {
    prefix(key);
    quote(v);
    return *this;
  }
  json_writer& value(std::string_view key, const char* v) {
    return value(key, std::string_view(v));
  }
  json_writer& null(std::string_view key) {
    prefix(key);
    out_ += "null";
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  json_writer& open(std::string_view key, char c) {
    prefix(key);
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  json_writer& close(char c) {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) newline();
    out_ += c;
    if (first_.empty()) out_ += '\n';
    return *this;
  }
  void newline() {
    out_ += '\n';
    out_.append(2 * first_.size(), ' ');
  }
  void prefix(std::string_view key) {
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
      newline();
    }
    if (!key.empty()) {
      quote(key);
      out_ += ": ";
    }
  }
  void quote(std::string_view s) {
    out_ += '"';
    for (char c : s) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20)
            out_ += fmt::format("\\u{:04x}", static_cast<int>(c));
          else
            out_ += c;
      }
    }
    out_ += '"';
  }
  std::string out_;
  std::vector<bool> first_;
};

}  // namespace apical::app
