// sigma/nn/ordered_dict.h: sigma::OrderedDict, a map with unique keys that
// iterates in insertion order, as torch::OrderedDict. Module keeps its
// parameters, buffers and children in these, so every listing follows
// registration order (PyTorch's order, and the order of a state_dict).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sigma/error.h"

namespace sigma {

template <class Key, class Value>
class OrderedDict {
 public:
  class Item {
   public:
    Item(Key key, Value value) : pair_(std::move(key), std::move(value)) {}
    const Key& key() const noexcept { return pair_.first; }
    Value& value() noexcept { return pair_.second; }
    const Value& value() const noexcept { return pair_.second; }
    Value& operator*() noexcept { return pair_.second; }
    const Value& operator*() const noexcept { return pair_.second; }
    Value* operator->() noexcept { return &pair_.second; }
    const Value* operator->() const noexcept { return &pair_.second; }
    const std::pair<Key, Value>& pair() const noexcept { return pair_; }

   private:
    std::pair<Key, Value> pair_;
  };
  using Iterator = typename std::vector<Item>::iterator;
  using ConstIterator = typename std::vector<Item>::const_iterator;

  // key_description names the keys in error messages ("Parameter 'w' ...").
  explicit OrderedDict(std::string key_description = "Key")
      : key_description_(std::move(key_description)) {}
  OrderedDict(std::initializer_list<Item> items) {
    items_.reserve(items.size());
    for (const Item& item : items) insert(item.key(), item.value());
  }

  const std::string& key_description() const noexcept { return key_description_; }

  Item& front() { return checked_index(0, "front"); }
  const Item& front() const { return const_cast<OrderedDict*>(this)->checked_index(0, "front"); }
  Item& back() { return checked_index(items_.empty() ? 0 : items_.size() - 1, "back"); }
  const Item& back() const { return const_cast<OrderedDict*>(this)->back(); }
  // The item at a position, in insertion order.
  Item& operator[](std::size_t index) { return checked_index(index, "operator[]"); }
  const Item& operator[](std::size_t index) const {
    return const_cast<OrderedDict*>(this)->checked_index(index, "operator[]");
  }
  // The value under a key; sigma::Error if there is none.
  Value& operator[](const Key& key) {
    if (Value* v = find(key)) return *v;
    throw Error("OrderedDict: " + key_description_ + " '" + key_string(key) + "' is not defined");
  }
  const Value& operator[](const Key& key) const { return (*const_cast<OrderedDict*>(this))[key]; }
  Value* find(const Key& key) noexcept {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].value();
  }
  const Value* find(const Key& key) const noexcept {
    return const_cast<OrderedDict*>(this)->find(key);
  }
  bool contains(const Key& key) const noexcept { return index_.count(key) != 0; }

  Iterator begin() noexcept { return items_.begin(); }
  ConstIterator begin() const noexcept { return items_.begin(); }
  Iterator end() noexcept { return items_.end(); }
  ConstIterator end() const noexcept { return items_.end(); }
  std::size_t size() const noexcept { return items_.size(); }
  bool is_empty() const noexcept { return items_.empty(); }
  bool empty() const noexcept { return items_.empty(); }
  void reserve(std::size_t n) {
    index_.reserve(n);
    items_.reserve(n);
  }

  // Appends a new key; sigma::Error if the key is already there.
  template <class K, class V>
  Value& insert(K&& key, V&& value) {
    if (contains(key))
      throw Error("OrderedDict: " + key_description_ + " '" + key_string(key) +
                  "' already defined");
    items_.emplace_back(Key(std::forward<K>(key)), Value(std::forward<V>(value)));
    index_.emplace(items_.back().key(), items_.size() - 1);
    return items_.back().value();
  }
  Value& insert(Key key, Value&& value) {
    return insert<Key, Value>(std::move(key), std::move(value));
  }
  // Inserts or overwrites every item of other, keeping this dict's order for
  // keys it already has.
  void update(const OrderedDict& other) {
    for (const Item& item : other) {
      if (Value* v = find(item.key()))
        *v = item.value();
      else
        insert(item.key(), item.value());
    }
  }
  void erase(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end())
      throw Error("OrderedDict: " + key_description_ + " '" + key_string(key) + "' is not defined");
    const std::size_t pos = it->second;
    index_.erase(it);
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(pos));
    for (std::size_t i = pos; i < items_.size(); ++i) index_[items_[i].key()] = i;
  }
  void clear() {
    index_.clear();
    items_.clear();
  }

  const std::vector<Item>& items() const noexcept { return items_; }
  std::vector<Key> keys() const {
    std::vector<Key> out;
    out.reserve(items_.size());
    for (const Item& item : items_) out.push_back(item.key());
    return out;
  }
  std::vector<Value> values() const {
    std::vector<Value> out;
    out.reserve(items_.size());
    for (const Item& item : items_) out.push_back(item.value());
    return out;
  }
  std::vector<std::pair<Key, Value>> pairs() const {
    std::vector<std::pair<Key, Value>> out;
    out.reserve(items_.size());
    for (const Item& item : items_) out.push_back(item.pair());
    return out;
  }

 private:
  Item& checked_index(std::size_t index, const char* op) {
    if (index >= items_.size())
      throw Error(std::string("OrderedDict::") + op + ": index " + std::to_string(index) +
                  " is out of range for a dict of size " + std::to_string(items_.size()));
    return items_[index];
  }
  template <class K>
  static std::string key_string(const K& key) {
    if constexpr (requires(std::ostream & os, const K& k) { os << k; }) {
      std::ostringstream os;
      os << key;
      return os.str();
    } else {
      return "?";
    }
  }

  std::unordered_map<Key, std::size_t> index_;
  std::vector<Item> items_;
  std::string key_description_ = "Key";
};

}  // namespace sigma
