#include "cli/train_flags.hpp"

#include "cli/train_task_flags.hpp"

namespace mmx::cli {

const TaskFlagSet& lm_flag_set() {
  static const TaskFlagSet set{"lm",
                               {{"--layers", {"/model/layers"}},
                                {"--d-model", {"/model/d_model"}},
                                {"--heads", {"/model/heads"}},
                                {"--seq", {"/model/seq_len"}},
                                {"--batch", {"/batch"}},
                                {"--steps", {"/steps"}},
                                {"--lr", {"/lr"}},
                                {"--min-lr", {"/min_lr"}},
                                {"--warmup", {"/warmup"}},
                                {"--weight-decay", {"/weight_decay"}},
                                {"--dropout", {"/model/dropout"}},
                                {"--clip", {"/clip"}},
                                {"--attn", {"/model/attention"}},
                                {"--multimax-order", {"/model/multimax_order"}},
                                {"--multimax-per-head", {"/model/multimax_per_head"}},
                                {"--multimax-logits", {"/model/multimax_logits"}},
                                {"--eval-interval", {"/eval_interval"}},
                                {"--eval-batch", {"/eval_batch"}},
                                {"--seed", {"/seed"}},
                                {"--data", {"/data"}},
                                {"--precision", {"/precision"}}}};
  return set;
}

nn::TrainOptions TrainFlags::resolved(const CLI::App& cmd) const {
  nn::TrainOptions o = options;
  if (cmd.count("--steps") > 0 && cmd.count("--warmup") == 0) {
    o.steps = defaults.steps;
    o.warmup = defaults.warmup;
    o.set_steps_keeping_warmup_share(options.steps);
  }
  o.model.attention = nn::parse_attention_kind(attention);
  o.validate();
  return o;
}

void add_train_flags(CLI::App& cmd, TrainFlags& f, bool with_attention) {
  f.defaults = f.options;
  nn::TrainOptions& o = f.options;
  nn::GPTConfig& m = o.model;
  cmd.add_option("--layers", m.layers, "Transformer blocks")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd.add_option("--d-model", m.d_model, "Model width")
      ->capture_default_str()
      ->check(CLI::Range(4, 4096));
  cmd.add_option("--heads", m.heads, "Attention heads (must divide --d-model)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd.add_option("--seq", m.seq_len, "Context length in characters")
      ->capture_default_str()
      ->check(CLI::Range(2, 8192));
  cmd.add_option("--batch", o.batch, "Sequences per step")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd.add_option(
         "--steps", o.steps,
         "Optimizer steps in total (with --resume: a larger value extends the run; the learning "
         "rate then falls by a cosine from where it was to --min-lr at the new end)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  cmd.add_option("--lr", o.lr, "Peak learning rate (AdamW)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--min-lr", o.min_lr, "Learning rate at the end of the cosine decay")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--warmup", o.warmup,
                 "Linear warmup steps (default: the same share of --steps as the default's)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--weight-decay", o.weight_decay,
                 "AdamW decoupled weight decay (2-D weights only)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--dropout", m.dropout, "Dropout probability")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.95));
  cmd.add_option("--clip", o.clip, "Global gradient-norm clip (0: off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  if (with_attention)
    cmd.add_option("--attn", f.attention, "Attention normalizer")
        ->capture_default_str()
        ->check(CLI::IsMember(nn::normalizer_names()));
  cmd.add_option("--multimax-order", m.multimax_order, "MultiMax modulator order")
      ->capture_default_str()
      ->check(CLI::IsMember({1, 2}));
  cmd.add_flag("--multimax-per-head", m.multimax_per_head,
               "One MultiMax (t, r) per head instead of per layer");
  cmd.add_flag("--multimax-logits", m.multimax_logits,
               "Also modulate the output logits with MultiMax");
  cmd.add_option("--eval-interval", o.eval_interval, "Steps between evaluations and checkpoints")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  cmd.add_option("--eval-batch", o.eval_batch,
                 "Rows of the fixed validation batch (vit: held-out images, default 5000; mt: "
                 "valid pairs decoded for chrF, default 200)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd.add_option("--seed", o.seed, "Seed of the initial weights, data order and dropout")
      ->capture_default_str();
  cmd.add_option("--data", o.data,
                 "UTF-8 text file or folder (default: the fortunes package); vit: folder of "
                 "Fashion-MNIST IDX files; mt: a ding dictionary")
      ->check(CLI::ExistingPath);
  cmd.add_option("--precision", o.precision,
                 "Matmul operand precision (bf16: bf16 operands, fp32 accumulation; weights and "
                 "normalizers stay fp32)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd.add_option("--threads", f.threads, "OpenMP threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
}

}  // namespace mmx::cli
