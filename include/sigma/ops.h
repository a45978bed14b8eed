// sigma/ops.h: creation functions and operations on tensors, named and
// behaving as in LibTorch (torch::zeros, torch::sigmoid, torch::matmul, ...).
//
// Element-wise binary ops broadcast like NumPy/PyTorch and promote dtypes as
// PyTorch does (float32 with float64 gives float64; a Scalar operand takes
// the tensor's dtype). Every op that LibTorch differentiates records a
// gradient here too; comparisons, where and the random functions do not.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sigma/reduction.h"
#include "sigma/tensor.h"
#include "sigma/tensor_ops.h"

namespace sigma {

// ---- Creation. Floating values give the default dtype (float32), integers
// give int64, bools give bool, unless options say otherwise.
Tensor tensor(std::initializer_list<float> values, const TensorOptions& o = {});
Tensor tensor(std::initializer_list<double> values, const TensorOptions& o = {});
Tensor tensor(std::initializer_list<int> values, const TensorOptions& o = {});
Tensor tensor(std::initializer_list<std::int64_t> values, const TensorOptions& o = {});
Tensor tensor(std::initializer_list<bool> values, const TensorOptions& o = {});
Tensor tensor(std::initializer_list<std::initializer_list<float>> rows, const TensorOptions& o = {});
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows,
              const TensorOptions& o = {});
Tensor tensor(std::initializer_list<std::initializer_list<int>> rows, const TensorOptions& o = {});
Tensor tensor(const std::vector<float>& values, const TensorOptions& o = {});
Tensor tensor(const std::vector<double>& values, const TensorOptions& o = {});
Tensor tensor(const std::vector<std::int64_t>& values, const TensorOptions& o = {});
// A zero-dimensional tensor.
Tensor scalar_tensor(const Scalar& v, const TensorOptions& o = {});
// Copies count elements of the given type from data into a new tensor of the
// given shape (LibTorch's from_blob followed by clone).
Tensor from_data(const void* data, ScalarType data_type, IntArrayRef shape,
                 const TensorOptions& o = {});
// A tensor over memory sigma does not own, as LibTorch's from_blob: nothing
// is copied, and writes through either side show in the other. The memory
// must outlive the tensor and its views, unless a deleter is given: it is
// called with data once the last of them is gone. The dtype is the options'
// (default: the default dtype); strides default to contiguous. sigma::Error,
// naming the problem, for null data with elements, a negative size or
// stride, sizes and strides of different lengths, or data not aligned to
// the dtype's size.
Tensor from_blob(void* data, IntArrayRef sizes, const TensorOptions& o = {});
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const TensorOptions& o = {});
Tensor from_blob(void* data, IntArrayRef sizes, const std::function<void(void*)>& deleter,
                 const TensorOptions& o = {});
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides,
                 const std::function<void(void*)>& deleter, const TensorOptions& o = {});

Tensor empty(IntArrayRef shape, const TensorOptions& o = {});
Tensor zeros(IntArrayRef shape, const TensorOptions& o = {});
Tensor ones(IntArrayRef shape, const TensorOptions& o = {});
Tensor full(IntArrayRef shape, const Scalar& value, const TensorOptions& o = {});
Tensor eye(std::int64_t n, const TensorOptions& o = {});
// Values start, start + step, ... below end. Integer arguments without a
// dtype give int64; any floating argument gives the default dtype.
Tensor arange(const Scalar& end, const TensorOptions& o = {});
Tensor arange(const Scalar& start, const Scalar& end, const TensorOptions& o = {});
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step,
              const TensorOptions& o = {});
Tensor linspace(const Scalar& start, const Scalar& end, std::int64_t steps,
                const TensorOptions& o = {});
Tensor empty_like(const Tensor& t, const TensorOptions& o = {});
Tensor zeros_like(const Tensor& t, const TensorOptions& o = {});
Tensor ones_like(const Tensor& t, const TensorOptions& o = {});
Tensor full_like(const Tensor& t, const Scalar& value, const TensorOptions& o = {});

// ---- Random numbers from one global generator (a 64-bit Mersenne twister),
// so a manual_seed makes every run reproducible; the streams are sigma's own,
// not PyTorch's.
void manual_seed(std::uint64_t seed);
Tensor rand(IntArrayRef shape, const TensorOptions& o = {});    // U[0, 1)
Tensor randn(IntArrayRef shape, const TensorOptions& o = {});   // N(0, 1)
// Integers in [low, high); int64 unless options say otherwise.
Tensor randint(std::int64_t high, IntArrayRef shape, const TensorOptions& o = {});
Tensor randint(std::int64_t low, std::int64_t high, IntArrayRef shape,
               const TensorOptions& o = {});
Tensor randperm(std::int64_t n, const TensorOptions& o = {});
Tensor rand_like(const Tensor& t, const TensorOptions& o = {});
Tensor randn_like(const Tensor& t, const TensorOptions& o = {});
Tensor bernoulli(const Tensor& p);

// ---- Element-wise arithmetic.
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha = 1);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Scalar& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Scalar& b);
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor pow(const Tensor& base, const Scalar& exponent);
Tensor pow(const Scalar& base, const Tensor& exponent);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
// Gradient flows where min <= x <= max (PyTorch's convention at the bounds).
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
Tensor clamp_min(const Tensor& x, const Scalar& min);
Tensor clamp_max(const Tensor& x, const Scalar& max);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// ---- Activations of the sigmoid family: the element-wise math is the
// kernels of sigma/kernels.h (same accuracy contracts). The sigmoid gradient
// uses the saved output, y (1 - y), except where y has rounded to 1, where it
// is computed from the input (about 2.06e-9 at x = 20 in float32, not 0).
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor relu(const Tensor& x);
// approximate: "none" (x Phi(x), with erf) or "tanh".
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
Tensor silu(const Tensor& x);
Tensor log_sigmoid(const Tensor& x);
Tensor softplus(const Tensor& x, const Scalar& beta = 1, const Scalar& threshold = 20);
// min(max(x + 3, 0), 6) / 6 (PyTorch's hardsigmoid); the gradient is 1/6 on
// (-3, 3) and 0 elsewhere, ends included.
Tensor hardsigmoid(const Tensor& x);
// log(x / (1 - x)), the inverse of sigmoid: -inf at 0, +inf at 1, NaN outside
// [0, 1]. With eps (as PyTorch), x is clamped to [eps, 1 - eps] first and the
// gradient is 0 outside that interval; a negative eps clamps nothing.
// Integer and bool inputs compute in the default dtype.
Tensor logit(const Tensor& x, std::optional<double> eps = std::nullopt);
// Element-wise loss of sigma/kernels.h's bce_with_logits, reduced by
// kNone, kMean or kSum (or PyTorch's strings "none", "mean", "sum"). weight
// broadcasts to the input's shape, pos_weight along its last dimension.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = {}, const Tensor& pos_weight = {},
                                        Reduction reduction = kMean);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, const Tensor& pos_weight,
                                        const std::string& reduction);
// Binary cross-entropy of probabilities input in [0, 1] (an error names the
// first element outside), each log clamped at -100 as PyTorch, so the loss
// is finite at 0 and 1. weight broadcasts to the input's shape.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = kMean);

// ---- Softmax and its family along a dimension (LibTorch's signatures).
// softmax(x)_i = e^(x_i - m) / sum_j e^(x_j - m), m the maximum along dim; on
// the row kernels of sigma/kernels.h (their ULP contracts). As LibTorch: -inf
// entries give 0 (log_softmax: -inf) while the row has a finite maximum; a row
// holding +inf or NaN, or all -inf, gives NaN. dtype casts the input first.
// Integer inputs are an error (pass dtype). bf16/f16 compute in f32.
Tensor softmax(const Tensor& x, std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& x, std::int64_t dim,
                   std::optional<ScalarType> dtype = std::nullopt);
// log(sum(exp(x))) over dims (all for an empty list): -inf where every
// element is -inf, +inf where one is +inf. Integer inputs compute in the
// default dtype.
Tensor logsumexp(const Tensor& x, IntArrayRef dims, bool keepdim = false);
// The gated linear unit: x split in halves a, b along dim, a * sigmoid(b).
// sigma::Error when that dimension's size is odd.
Tensor glu(const Tensor& x, std::int64_t dim = -1);

// ---- Multi-class losses. input [C] with a zero-dimensional target, or
// [N, C, d1, ...] with an int64 target [N, d1, ...] of class indices in
// [0, C) or ignore_index. weight: one value per class (or undefined).
// nll_loss: -weight[t] input[t] per element; kMean divides by the summed
// weights of the targets not ignored (NaN when all are).
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                Reduction reduction = kMean, std::int64_t ignore_index = -100);
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                const std::string& reduction, std::int64_t ignore_index = -100);
// nll_loss(log_softmax(input, class dim)), or with a floating target of
// class probabilities (the input's shape) -sum_c weight_c p_c log_softmax_c,
// kMean then dividing by the number of elements. label_smoothing eps in
// [0, 1] mixes the target with the uniform distribution: (1 - eps) of it
// plus eps / C per class.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                     Reduction reduction = kMean, std::int64_t ignore_index = -100,
                     double label_smoothing = 0.0);
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     const std::string& reduction, std::int64_t ignore_index = -100,
                     double label_smoothing = 0.0);
// LibTorch's name for it (torch::cross_entropy_loss).
inline Tensor cross_entropy_loss(const Tensor& input, const Tensor& target,
                                 const Tensor& weight = {}, Reduction reduction = kMean,
                                 std::int64_t ignore_index = -100, double label_smoothing = 0.0) {
  return cross_entropy(input, target, weight, reduction, ignore_index, label_smoothing);
}

// ---- Attention. softmax(q k^T scale + mask) v for q [..., L, E], k [..., S,
// E], v [..., S, Ev] (batch dimensions broadcast), scale 1/sqrt(E) unless
// given. attn_mask: bool (true takes part) or floating (added to the
// scores), broadcasting to [..., L, S]; is_causal masks keys after the query
// (j > i; not together with attn_mask). dropout_p > 0 drops attention
// weights with sigma's generator. A query with every key masked gets NaN, as
// in PyTorch. The sigmoid form is sigma::nn::functional::sigmoid_attention.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = {}, double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

// ---- Linear algebra (CBLAS sgemm/dgemm; bf16/f16 computed in f32).
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor dot(const Tensor& a, const Tensor& b);

// ---- Normalization and embedding (LibTorch's names and arguments).
// Layer normalization over the trailing dimensions of input that equal
// normalized_shape: y = (x - mean) / sqrt(var + eps) * weight + bias, with the
// biased variance of each slice. weight and bias (each undefined, or of shape
// normalized_shape and input's dtype) get gradients. Statistics and results
// are computed in double (long double for float64) and rounded once per
// element, so bf16/f16 inputs compute in wider precision too. cudnn_enable is
// accepted for LibTorch compatibility and ignored.
Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5, bool cudnn_enable = true);
// Rows of weight [num_embeddings, embedding_dim] picked by int64 indices of
// any shape: indices.shape + [embedding_dim]. The gradient to weight adds each
// output row's gradient into its row (summed in double, rounded once); the
// row padding_idx (when >= 0) gets none, and with scale_grad_by_freq each
// row's gradient is divided by how often its index occurs. An index outside
// [0, num_embeddings) is a sigma::Error naming it; sparse=true is one too
// (sigma has no sparse gradients).
Tensor embedding(const Tensor& weight, const Tensor& indices, std::int64_t padding_idx = -1,
                 bool scale_grad_by_freq = false, bool sparse = false);
// In place, without a gradient: every row of self named in indices whose
// norm_type-norm exceeds max_norm is multiplied by max_norm / (norm + 1e-7),
// as LibTorch (Embedding's max_norm). Returns self.
Tensor& embedding_renorm_(Tensor& self, const Tensor& indices, double max_norm, double norm_type);

// ---- Reductions. dims may be negative; an empty dims list reduces over all.
Tensor sum(const Tensor& x, std::optional<ScalarType> dtype = std::nullopt);
Tensor sum(const Tensor& x, IntArrayRef dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, IntArrayRef dims, bool keepdim = false);
// The maximum of all elements; its gradient is shared evenly between ties.
Tensor max(const Tensor& x);
// (values, int64 indices) along dim; the gradient goes to the index returned.
std::tuple<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor min(const Tensor& x);
std::tuple<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt,
              bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt,
              bool keepdim = false);
// The p-norm (p > 0, or inf) over all elements or over dims. The 2-norm's
// gradient at 0 is 0.
Tensor norm(const Tensor& x, const Scalar& p = 2);
Tensor norm(const Tensor& x, const Scalar& p, IntArrayRef dims, bool keepdim = false);

// ---- Joining and views as free functions.
Tensor cat(const TensorList& tensors, std::int64_t dim = 0);
Tensor stack(const TensorList& tensors, std::int64_t dim = 0);
Tensor reshape(const Tensor& x, IntArrayRef shape);
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1);
Tensor permute(const Tensor& x, IntArrayRef dims);
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length);
std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim = 0);
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index);
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, std::int64_t dim);

// ---- Comparisons and selection (no gradient through the condition).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor isnan(const Tensor& x);
Tensor isfinite(const Tensor& x);
// cond ? a : b element-wise, broadcasting all three; gradients flow to a and
// b where cond selects them.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b);
// Whether every / any element is non-zero, as a zero-dimensional bool tensor.
Tensor all(const Tensor& x);
Tensor any(const Tensor& x);
bool equal(const Tensor& a, const Tensor& b);
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);


// ---- Indexing (src/ops/indexing.cpp), LibTorch's free functions. Index
// tensors are int64 (masks bool); an index outside [-size, size) is a
// sigma::Error naming the op, the index, the dimension and its size.
// indices: one optional int64 / bool tensor per leading dimension (nullopt
// takes the whole dimension), as at::index / at::index_put_.
Tensor index(const Tensor& self, const std::vector<std::optional<Tensor>>& indices);
// self with values written (accumulate: added, duplicates summed) at indices.
Tensor index_put(const Tensor& self, const std::vector<std::optional<Tensor>>& indices,
                 const Tensor& values, bool accumulate = false);
Tensor& index_put_(Tensor& self, const std::vector<std::optional<Tensor>>& indices,
                   const Tensor& values, bool accumulate = false);
// index: 1-D (or 0-D); out = self with dim's entries picked by index.
Tensor index_select(const Tensor& self, std::int64_t dim, const Tensor& index);
// out[i][j] = self[index[i][j]][j] (dim 0): out has index's shape, index no
// larger than self outside dim. sparse_grad is accepted and ignored.
Tensor gather(const Tensor& self, std::int64_t dim, const Tensor& index, bool sparse_grad = false);
// The inverse placement: out = self, out[index[i][j]][j] = src[i][j] (dim 0).
Tensor scatter(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& self, std::int64_t dim, const Tensor& index, const Scalar& value);
Tensor scatter_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src);
// out = self; out.select(dim, index[i]) += alpha * source.select(dim, i).
Tensor index_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& source,
                 const Scalar& alpha = 1);
// value where the bool mask (broadcast with self) is true, self elsewhere;
// a tensor value must be zero-dimensional (it gets a gradient).
Tensor masked_fill(const Tensor& self, const Tensor& mask, const Scalar& value);
Tensor masked_fill(const Tensor& self, const Tensor& mask, const Tensor& value);
// The elements of self where mask is true (both broadcast), as a 1-D tensor.
Tensor masked_select(const Tensor& self, const Tensor& mask);
// [n, self.dim()] int64: the coordinates of the non-zero elements, row-major.
Tensor nonzero(const Tensor& self);
Tensor argwhere(const Tensor& self);

}  // namespace sigma

// ---- layers: convolution, batch norm, pooling, leaky/bounded activations.
#include "sigma/layer_ops.h"  // IWYU pragma: export
