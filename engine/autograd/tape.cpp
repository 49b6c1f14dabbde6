#include "engine/autograd/tape.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "engine/error.hpp"
#include "engine/parallel_region.hpp"

namespace mmx {

namespace {

struct SavedVersion {
  Tensor tensor;
  uint64_t version;
};

// Gradient sums at least this large run on all threads.
constexpr int64_t kParallelMinElements = int64_t{1} << 16;

// Where a window node's output sits in its input (see record_window).
struct Window {
  int64_t axis;
  int64_t start;
};

struct Node {
  const char* op;
  std::vector<std::shared_ptr<AutogradMeta>> inputs;  // null where no gradient is wanted
  std::shared_ptr<AutogradMeta> output;
  std::vector<SavedVersion> saved;
  BackwardFn backward;  // empty for a window node
  std::optional<Window> window;
};

using Clock = std::chrono::steady_clock;

// See start_op_profile. Off unless asked for: then a clock read per recorded op and two per
// backward node.
struct OpProfile {
  bool on = false;
  Clock::time_point last;
  std::map<std::string, autograd::OpTime> totals;
  double charge_since_last() {  // ms since `last`, which moves to now
    const Clock::time_point now = Clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - last).count();
    last = now;
    return ms;
  }
};

struct Tape {
  std::vector<Node> nodes;
  uint64_t generation = 1;  // bumped when the tape is cleared, so stale positions are detected
  bool grad_enabled = true;
  OpProfile profile;
};

Tape& tape() {
  thread_local Tape t;
  return t;
}

// Why copy_ and not to_vector: a dense gradient is then one memcpy, not two copies.
Tensor copy_contiguous(const Tensor& g) {
  Tensor out = Tensor::empty(g.shape());
  out.copy_(g);
  return out;
}

// The reference for the sum below: any strides, through two row-major copies.
void add_into_naive(const Tensor& a, const Tensor& b, float* out) {
  const std::vector<float> va = a.to_vector();
  const std::vector<float> vb = b.to_vector();
  for (size_t i = 0; i < va.size(); ++i) out[i] = va[i] + vb[i];
}

// Adds g into meta->grad. Never writes into an existing buffer: gradients may alias each other
// (add's backward hands the same tensor to both inputs). A leaf's gradient is its own
// contiguous copy, so optimizers may scale it in place.
void accumulate(AutogradMeta& meta, const Tensor& g) {
  if (!meta.grad.defined()) {
    meta.grad = meta.is_leaf() ? copy_contiguous(g) : g;
    return;
  }
  // A fresh buffer, not meta.grad's own even where nothing else holds it: the pool hands back a
  // block just freed, still in the caches, and the in-place sum made the tiny step's layer-norm
  // backwards (which add into the residual stream's gradient) 0.1 ms slower.
  Tensor sum = Tensor::empty(meta.shape);
  float* out = sum.data();
  // Why: the residual stream sums two activation-sized gradients per block per step; the
  // profile of a tiny GPT step put ~19% of the time in the two to_vector copies this skips.
  if (meta.grad.is_contiguous() && g.is_contiguous()) {
    const float* a = meta.grad.data();
    const float* b = g.data();
    const int64_t n = sum.numel();
    // On all threads when large: on one, the other core waited through every such sum.
    parallel_region(n >= kParallelMinElements, [&] {
#pragma omp for simd schedule(static)
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
    });
  } else {
    add_into_naive(meta.grad, g, out);
  }
  meta.grad = sum;
}

// Adds g (dense) into the window [start, start + g.size(axis)) along `axis` of meta.grad. The
// first window into a gradient writes a fresh buffer (zero outside the window) in the same pass;
// later ones add in place when nothing else holds the buffer (else into a copy, as accumulate).
void accumulate_window(AutogradMeta& meta, const Tensor& g, const Window& w) {
  const bool fresh = !meta.grad.defined();
  if (fresh)
    meta.grad = Tensor::empty(meta.shape);
  else if (!meta.grad.is_contiguous() || !meta.grad.sole_owner())
    meta.grad = copy_contiguous(meta.grad);
  // Row-major: for each index of the axes before `axis` (outer), the window is one run of
  // `inner` elements at `skip` inside that index's `span` elements of the full gradient.
  int64_t outer = 1;
  for (int64_t a = 0; a < w.axis; ++a) outer *= meta.shape[static_cast<size_t>(a)];
  const int64_t span = meta.grad.numel() / std::max<int64_t>(outer, 1);
  const int64_t inner = g.numel() / std::max<int64_t>(outer, 1);
  const int64_t skip = w.start * meta.grad.strides()[static_cast<size_t>(w.axis)];
  float* full = meta.grad.data();
  const float* window = g.data();
  parallel_region(meta.grad.numel() >= kParallelMinElements, [&] {
#pragma omp for
    for (int64_t o = 0; o < outer; ++o) {
      float* to = full + o * span;
      const float* from = window + o * inner;
      if (fresh) {
        std::fill(to, to + skip, 0.0f);
        std::copy(from, from + inner, to + skip);
        std::fill(to + skip + inner, to + span, 0.0f);
      } else {
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) to[skip + i] += from[i];
      }
    }
  });
}

// Drops what a node's backward needed (its closure holds the saved activations), once it ran.
void release_saved(Node& node) {
  node.backward = nullptr;
  node.saved.clear();
  node.saved.shrink_to_fit();
}

// After a node's backward: its output's gradient is no longer needed, nor (unless the graph is
// kept) what the backward saved. Why: without this every saved activation lived until
// clear_tape, so the lower layers' backward allocated its gradients on top of all the upper
// layers' activations.
void finish_node(Node& node, AutogradMeta& out, bool retain_graph, OpProfile& profile) {
  if (!out.retains_grad) out.grad = Tensor();
  if (!retain_graph) release_saved(node);
  if (profile.on) profile.totals[node.op].backward_ms += profile.charge_since_last();
}

}  // namespace

namespace autograd {

bool grad_enabled() {
  return tape().grad_enabled;
}

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) return true;
  return false;
}

void record(const char* op, const std::vector<Tensor>& inputs, Tensor& output,
            const std::vector<Tensor>& saved, BackwardFn backward) {
  Tape& t = tape();
  if (t.profile.on) {
    OpTime& time = t.profile.totals[op];
    time.forward_ms += t.profile.charge_since_last();
    ++time.calls;
  }
  Node node{op, {}, nullptr, {}, std::move(backward), std::nullopt};
  node.inputs.reserve(inputs.size());
  for (const Tensor& in : inputs)
    node.inputs.push_back(in.requires_grad() ? in.impl()->autograd : nullptr);
  for (const Tensor& s : saved) node.saved.push_back({s, s.version()});

  auto meta = std::make_shared<AutogradMeta>();
  meta->requires_grad = true;
  meta->shape = output.shape();
  meta->tape_generation = t.generation;
  meta->tape_position = static_cast<int64_t>(t.nodes.size());
  output.impl()->autograd = meta;
  node.output = std::move(meta);
  t.nodes.push_back(std::move(node));
}

void record_window(const char* op, const Tensor& input, Tensor& output, int64_t axis,
                   int64_t start) {
  record(op, {input}, output, {}, nullptr);
  tape().nodes.back().window = Window{axis, start};
}

void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph) {
  MMX_CHECK(root.defined(), "backward: called on an undefined tensor");
  MMX_CHECK(root.requires_grad(), "backward: tensor of shape ", to_string(root.shape()),
            " does not require grad (no input of the computation had requires_grad_())");
  MMX_CHECK(seed.shape() == root.shape(), "backward: seed gradient of shape ",
            to_string(seed.shape()), " for a tensor of shape ", to_string(root.shape()));
  AutogradMeta& root_meta = root.autograd();
  if (root_meta.is_leaf()) {
    accumulate(root_meta, seed);
    return;
  }
  Tape& t = tape();
  const int64_t start = root_meta.tape_position;
  MMX_CHECK(
      root_meta.tape_generation == t.generation && start < static_cast<int64_t>(t.nodes.size()),
      "backward: the graph of this tensor was already freed (backward ran through it "
      "before, or the tape was cleared); pass retain_graph=true to the first backward "
      "to run it twice");

  NoGrad no_grad;  // backward closures compute gradients, they do not record
  accumulate(root_meta, seed);
  for (int64_t i = start; i >= 0; --i) {
    Node& node = t.nodes[static_cast<size_t>(i)];
    AutogradMeta& out = *node.output;
    if (!out.grad.defined()) continue;  // not on a path from the root
    for (const SavedVersion& s : node.saved)
      MMX_CHECK(s.tensor.version() == s.version, "backward: a tensor saved by '", node.op,
                "' (shape ", to_string(s.tensor.shape()),
                ") was modified in place after the forward; clone it before changing it");
    if (t.profile.on) t.profile.charge_since_last();
    // The tape lets go of the output's gradient before the backward runs (unless retain_grad
    // keeps it), so a backward holding the only handle may write its result over it.
    Tensor grad_out = out.retains_grad ? out.grad : std::move(out.grad);
    if (!grad_out.is_contiguous()) grad_out = copy_contiguous(grad_out);
    if (node.window) {
      if (node.inputs[0]) accumulate_window(*node.inputs[0], grad_out, *node.window);
      finish_node(node, out, retain_graph, t.profile);
      continue;
    }
    const std::vector<Tensor> grads = node.backward(grad_out);
    MMX_CHECK(grads.size() == node.inputs.size(), "backward: '", node.op, "' returned ",
              grads.size(), " gradients for ", node.inputs.size(), " inputs");
    for (size_t k = 0; k < grads.size(); ++k) {
      if (!node.inputs[k] || !grads[k].defined()) continue;
      AutogradMeta& in = *node.inputs[k];
      accumulate(in, sum_to_shape(grads[k], in.shape));
    }
    finish_node(node, out, retain_graph, t.profile);
  }
  if (!retain_graph) clear_tape();
}

void start_op_profile() {
  OpProfile& p = tape().profile;
  p.totals.clear();
  p.on = true;
  p.last = Clock::now();
}

void mark_op_profile() {
  tape().profile.last = Clock::now();
}

std::map<std::string, OpTime> stop_op_profile() {
  OpProfile& p = tape().profile;
  p.on = false;
  return std::move(p.totals);
}

size_t tape_size() {
  return tape().nodes.size();
}

void clear_tape() {
  tape().nodes.clear();
  ++tape().generation;
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const Shape& gs = grad.shape();
  MMX_CHECK(gs.size() >= shape.size(), "backward: gradient of shape ", to_string(gs),
            " cannot be reduced to ", to_string(shape));
  // Strides of the target, aligned right, with 0 on every axis the forward broadcast.
  const size_t lead = gs.size() - shape.size();
  const Shape target_strides = contiguous_strides(shape);
  Shape acc_strides(gs.size(), 0);
  for (size_t d = lead; d < gs.size(); ++d) {
    const int64_t s = shape[d - lead];
    MMX_CHECK(s == gs[d] || s == 1, "backward: gradient of shape ", to_string(gs),
              " cannot be reduced to ", to_string(shape));
    acc_strides[d] = s == 1 ? 0 : target_strides[d - lead];
  }
  Tensor out = Tensor::zeros(shape);
  // Why: a bias gradient is a [batch*seq, d] sum every step; read a dense gradient in place.
  const Tensor dense = grad.is_contiguous() ? grad : copy_contiguous(grad);
  const float* g = dense.data();
  float* o = out.data();
  const int64_t inner = out.numel();
  bool leading_only = true;  // broadcast over leading axes alone: a [rows, inner] column sum
  for (size_t d = lead; d < gs.size(); ++d) leading_only = leading_only && shape[d - lead] == gs[d];
  if (leading_only && inner > 0) {
    // A positional embedding's gradient, summed over the batch every step: on one thread, in the
    // loop below, the other core waited through it. Each thread takes whole column blocks and
    // sums every column in row order, as the loop below: the same bits on any thread count.
    constexpr int64_t kBlock = 256;
    const int64_t rows = dense.numel() / inner;
    parallel_region(dense.numel() >= kParallelMinElements, [&] {
#pragma omp for schedule(static)
      for (int64_t c0 = 0; c0 < inner; c0 += kBlock) {
        const int64_t c1 = std::min(inner, c0 + kBlock);
        for (int64_t r = 0; r < rows; ++r) {
          const float* row = g + r * inner;
#pragma omp simd
          for (int64_t c = c0; c < c1; ++c) o[c] += row[c];
        }
      }
    });
    return out;
  }
  int64_t k = 0;
  for_each_offset(gs, acc_strides, [&](int64_t off) { o[off] += g[k++]; });
  return out;
}

}  // namespace autograd

NoGrad::NoGrad() : previous_(tape().grad_enabled) {
  tape().grad_enabled = false;
}
NoGrad::~NoGrad() {
  tape().grad_enabled = previous_;
}

}  // namespace mmx
