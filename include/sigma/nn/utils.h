// sigma/nn/utils.h: gradient clipping and parameter flattening, as
// torch::nn::utils (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
// vector_to_parameters). Parameters whose grad is undefined are skipped.
#pragma once

#include <initializer_list>
#include <vector>

#include "sigma/tensor.h"

namespace sigma::nn::utils {

// Scales every gradient in place by min(1, max_norm / (total + 1e-6)), where
// total is the norm_type-norm of all gradients together (norm_type may be
// infinity: the largest |g|), and returns total (computed in double). With
// error_if_nonfinite, a NaN or infinite total raises sigma::Error naming it
// and leaves the gradients unchanged.
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);
double clip_grad_norm_(std::initializer_list<Tensor> parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);
double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element into [-clip_value, clip_value] in place.
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);
void clip_grad_value_(std::initializer_list<Tensor> parameters, double clip_value);
void clip_grad_value_(const Tensor& parameter, double clip_value);

// All parameters flattened and concatenated into one 1-D tensor.
Tensor parameters_to_vector(const std::vector<Tensor>& parameters);
// Copies consecutive slices of vec into the parameters (in place, without
// recording a graph); sigma::Error unless vec is 1-D with exactly as many
// elements as the parameters together.
void vector_to_parameters(const Tensor& vec, const std::vector<Tensor>& parameters);

}  // namespace sigma::nn::utils
