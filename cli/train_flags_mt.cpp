// `mmx train --task mt`: the shared flags a translator uses and where they go in nn::MTOptions,
// plus the per-side attention flags and --max-chars. --layers sets both encoder and decoder;
// --attn sets all three attentions and --enc-attn / --dec-attn / --cross-attn override it
// (all_run_flags lists the shared flags first, so they are applied after --attn).
#include "cli/train_task_flags.hpp"
#include "nn/normalizers.hpp"

namespace mmx::cli {

const TaskFlagSet& mt_flag_set() {
  static const TaskFlagSet set{
      "mt",
      {{"--layers", {"/model/encoder_layers", "/model/decoder_layers"}},
       {"--d-model", {"/model/d_model"}},
       {"--heads", {"/model/heads"}},
       {"--batch", {"/batch"}},
       {"--steps", {"/steps"}},
       {"--lr", {"/lr"}},
       {"--min-lr", {"/min_lr"}},
       {"--warmup", {"/warmup"}},
       {"--weight-decay", {"/weight_decay"}},
       {"--dropout", {"/model/dropout"}},
       {"--clip", {"/clip"}},
       {"--attn",
        {"/model/encoder_attention", "/model/decoder_attention", "/model/cross_attention"}},
       {"--multimax-order", {"/model/multimax_order"}},
       {"--multimax-per-head", {"/model/multimax_per_head"}},
       {"--eval-interval", {"/eval_interval"}},
       {"--eval-batch", {"/eval_pairs"}},
       {"--seed", {"/seed"}},
       {"--data", {"/data"}},
       {"--precision", {"/precision"}},
       {"--enc-attn", {"/model/encoder_attention"}},
       {"--dec-attn", {"/model/decoder_attention"}},
       {"--cross-attn", {"/model/cross_attention"}},
       {"--max-chars", {"/max_chars"}}}};
  return set;
}

void add_mt_only_flags(CLI::App& cmd) {
  const auto kinds = CLI::IsMember(nn::normalizer_names());
  cmd.add_option("--enc-attn")
      ->description("mt: encoder self-attention normalizer (overrides --attn)")
      ->check(kinds);
  cmd.add_option("--dec-attn")
      ->description("mt: decoder self-attention normalizer (overrides --attn)")
      ->check(kinds);
  cmd.add_option("--cross-attn")
      ->description("mt: cross-attention normalizer (overrides --attn)")
      ->check(kinds);
  cmd.add_option("--max-chars")
      ->description("mt: longest phrase kept, in characters per side (default 16)")
      ->type_name("INT")
      ->check(CLI::Range(1, 1000));
}

}  // namespace mmx::cli
