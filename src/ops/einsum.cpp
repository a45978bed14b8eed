// einsum.cpp: Einstein summation of one or two operands, composed of sum,
// permute, reshape, expand and bmm, so its gradient is theirs.
//
// Two operands A and B: letters only in one operand and not in the output
// are summed out first; the rest are batch letters (A, B and the output),
// contracted letters (A and B, not the output), A's own and B's own (in the
// output). A is permuted to [batch, own, contracted] and B to [batch,
// contracted, own], each reshaped to 3-d for one bmm [Bt, M, K] x [Bt, K, N],
// and the product is reshaped to [batch..., A's own..., B's own...] and
// permuted to the output's order. Size-1 dimensions broadcast against their
// letter's size in the other operand.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "sigma/ops.h"
#include "tensor/tensor_impl.h"

namespace sigma {

namespace {

using Labels = std::string;

[[noreturn]] void fail(std::string_view eq, const std::string& why) {
  throw Error("einsum: " + why + " (equation \"" + std::string(eq) + "\")");
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

struct Equation {
  std::vector<Labels> inputs;
  Labels output;
};

Equation parse(std::string_view eq, std::size_t operands) {
  Equation e;
  std::string s;
  for (char c : eq)
    if (c != ' ') s += c;
  if (s.find("...") != std::string::npos)
    fail(eq, "\"...\" (broadcast dimensions) is not supported; name every dimension with a letter");
  const auto arrow = s.find("->");
  const std::string lhs = s.substr(0, arrow);
  std::size_t start = 0;
  for (;;) {
    const auto comma = lhs.find(',', start);
    e.inputs.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (e.inputs.size() != operands)
    fail(eq, std::to_string(e.inputs.size()) + " operand(s) in the equation but " +
                 std::to_string(operands) + " tensor(s) given");
  std::array<int, 128> count{};
  for (const Labels& in : e.inputs) {
    std::array<bool, 128> seen{};
    for (char c : in) {
      if (!is_letter(c)) fail(eq, std::string("invalid subscript '") + c + "': expected a letter a-z or A-Z");
      if (seen[static_cast<unsigned char>(c)])
        fail(eq, std::string("subscript '") + c +
                     "' repeats within an operand (a diagonal), which is not supported");
      seen[static_cast<unsigned char>(c)] = true;
      ++count[static_cast<unsigned char>(c)];
    }
  }
  if (arrow != std::string::npos) {
    std::array<bool, 128> seen{};
    for (char c : s.substr(arrow + 2)) {
      if (!is_letter(c)) fail(eq, std::string("invalid output subscript '") + c + "'");
      if (seen[static_cast<unsigned char>(c)]) fail(eq, std::string("output subscript '") + c + "' repeats");
      if (count[static_cast<unsigned char>(c)] == 0)
        fail(eq, std::string("output subscript '") + c + "' does not appear in any operand");
      seen[static_cast<unsigned char>(c)] = true;
      e.output += c;
    }
  } else {
    for (int c = 0; c < 128; ++c)  // ASCII order: A-Z before a-z, as LibTorch
      if (count[static_cast<std::size_t>(c)] == 1) e.output += static_cast<char>(c);
  }
  return e;
}

bool has(const Labels& l, char c) { return l.find(c) != std::string::npos; }

// x with its labels: sums out the letters not in keep.
void sum_out(Tensor& x, Labels& l, const Labels& keep) {
  std::vector<std::int64_t> dims;
  Labels rest;
  for (std::size_t i = 0; i < l.size(); ++i)
    if (has(keep, l[i])) rest += l[i];
    else dims.push_back(static_cast<std::int64_t>(i));
  if (!dims.empty()) x = sum(x, dims, false);
  l = rest;
}

// x permuted to the letters of order (all of x's letters).
Tensor permute_to(const Tensor& x, const Labels& l, const Labels& order) {
  std::vector<std::int64_t> perm;
  for (char c : order) perm.push_back(static_cast<std::int64_t>(l.find(c)));
  return x.permute(perm);
}

std::int64_t size_of(const Tensor& x, const Labels& l, char c) {
  return x.size(static_cast<std::int64_t>(l.find(c)));
}

}  // namespace

Tensor einsum(std::string_view equation, const TensorList& tensors, OptionalIntArrayRef) {
  if (tensors.empty() || tensors.size() > 2)
    fail(equation, "expected one or two operands, got " + std::to_string(tensors.size()));
  for (const Tensor& t : tensors) check_defined("einsum", t);
  Equation e = parse(equation, tensors.size());
  for (std::size_t k = 0; k < tensors.size(); ++k)
    if (static_cast<std::int64_t>(e.inputs[k].size()) != tensors[k].dim())
      fail(equation, "operand " + std::to_string(k) + " has " + std::to_string(tensors[k].dim()) +
                         " dimensions (shape " + shape_string(tensors[k].sizes()) + ") but " +
                         std::to_string(e.inputs[k].size()) + " subscripts");
  if (tensors.size() == 1) {
    Tensor x = tensors[0];
    Labels l = e.inputs[0];
    sum_out(x, l, e.output);
    return permute_to(x, l, e.output);
  }
  Tensor a = tensors[0], b = tensors[1];
  Labels la = e.inputs[0], lb = e.inputs[1];
  sum_out(a, la, e.output + lb);
  sum_out(b, lb, e.output + la);
  Labels batch, contracted, own_a, own_b;
  for (char c : la) {
    if (has(lb, c)) (has(e.output, c) ? batch : contracted) += c;
    else own_a += c;
  }
  for (char c : lb)
    if (!has(la, c)) own_b += c;
  // Letters shared by both operands: equal sizes, or 1 broadcasting.
  std::vector<std::int64_t> batch_sizes;
  auto common = [&](char c) {
    const std::int64_t sa = size_of(a, la, c), sb = size_of(b, lb, c);
    if (sa != sb && sa != 1 && sb != 1)
      fail(equation, std::string("subscript '") + c + "' has size " + std::to_string(sa) +
                         " in operand 0 but " + std::to_string(sb) + " in operand 1");
    return std::max(sa, sb);
  };
  std::int64_t bt = 1, m = 1, kk = 1, n = 1;
  for (char c : batch) {
    batch_sizes.push_back(common(c));
    bt *= batch_sizes.back();
  }
  for (char c : contracted) {
    // A contracted letter of size 1 against a larger one: the size-1 side is
    // summed over nothing, so the larger side is summed out first.
    const std::int64_t sa = size_of(a, la, c), sb = size_of(b, lb, c);
    common(c);
    if (sa != sb) {
      Labels& l = sa == 1 ? lb : la;
      Tensor& t = sa == 1 ? b : a;
      Labels keep;
      for (char d : l)
        if (d != c) keep += d;
      Labels before = l;
      sum_out(t, l, keep);
      t = t.unsqueeze(static_cast<std::int64_t>(before.find(c)));
      l = before;
    }
  }
  std::vector<std::int64_t> a_own_sizes, b_own_sizes;
  for (char c : own_a) {
    a_own_sizes.push_back(size_of(a, la, c));
    m *= a_own_sizes.back();
  }
  for (char c : own_b) {
    b_own_sizes.push_back(size_of(b, lb, c));
    n *= b_own_sizes.back();
  }
  for (char c : contracted) kk *= size_of(a, la, c);
  // A: [batch, own_a, contracted] -> [Bt, M, K]; B: [batch, contracted, own_b] -> [Bt, K, N].
  std::vector<std::int64_t> a_shape = batch_sizes, b_shape = batch_sizes;
  for (char c : own_a) a_shape.push_back(size_of(a, la, c));
  for (char c : contracted) {
    a_shape.push_back(size_of(a, la, c));
    b_shape.push_back(size_of(b, lb, c));
  }
  for (char c : own_b) b_shape.push_back(size_of(b, lb, c));
  const Tensor a3 = permute_to(a, la, batch + own_a + contracted).expand(a_shape).reshape({bt, m, kk});
  const Tensor b3 = permute_to(b, lb, batch + contracted + own_b).expand(b_shape).reshape({bt, kk, n});
  std::vector<std::int64_t> out_shape = batch_sizes;
  out_shape.insert(out_shape.end(), a_own_sizes.begin(), a_own_sizes.end());
  out_shape.insert(out_shape.end(), b_own_sizes.begin(), b_own_sizes.end());
  const Tensor r = bmm(a3, b3).reshape(out_shape);
  return permute_to(r, batch + own_a + own_b, e.output);
}

}  // namespace sigma
