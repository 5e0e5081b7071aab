#pragma once
// Allocation-free callbacks: a delegate is a function pointer plus an opaque
// instance pointer (two words, no heap), and a signal is a list of delegates.
// Connecting allocates once; emitting never does.
#include <cstddef>
#include <utility>
#include <vector>

namespace apical {

template <class Signature>
class delegate;

template <class R, class... Args>
class delegate<R(Args...)> {
 public:
  delegate() = default;

  // Binds a member function: delegate<...>::bind<&type::method>(obj).
  template <auto Method, class T>
  static delegate bind(T& instance) {
    delegate d;
    d.instance_ = &instance;
    d.call_ = [](void* self, Args... args) -> R {
      return (static_cast<T*>(self)->*Method)(std::forward<Args>(args)...);
    };
    return d;
  }
  // Binds a free function taking the instance first: R f(T&, Args...).
  template <auto Function, class T>
  static delegate bind_free(T& instance) {
    delegate d;
    d.instance_ = &instance;
    d.call_ = [](void* self, Args... args) -> R {
      return Function(*static_cast<T*>(self), std::forward<Args>(args)...);
    };
    return d;
  }
  // Binds any callable object that outlives the delegate (not copied).
  template <class F>
  static delegate from(F& callable) {
    delegate d;
    d.instance_ = &callable;
    d.call_ = [](void* self, Args... args) -> R {
      return (*static_cast<F*>(self))(std::forward<Args>(args)...);
    };
    return d;
  }

  explicit operator bool() const { return call_ != nullptr; }
  R operator()(Args... args) const { return call_(instance_, std::forward<Args>(args)...); }
  friend bool operator==(const delegate& a, const delegate& b) {
    return a.instance_ == b.instance_ && a.call_ == b.call_;
  }

 private:
  void* instance_ = nullptr;
  R (*call_)(void*, Args...) = nullptr;
};

template <class... Args>
class signal {
 public:
  using slot = delegate<void(Args...)>;
  void connect(slot s) { slots_.push_back(s); }
  void disconnect(slot s) { std::erase(slots_, s); }
  bool empty() const { return slots_.empty(); }
  std::size_t size() const { return slots_.size(); }
  void emit(Args... args) const {
    for (const auto& s : slots_) s(args...);
  }

 private:
  std::vector<slot> slots_;
};

}  // namespace apical
