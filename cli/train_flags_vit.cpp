// `mmx train --task vit`: the shared flags a ViT uses and where they go in nn::VitOptions, plus
// --patch. --data names the folder of the four Fashion-MNIST IDX files; --eval-batch the
// held-out validation images.
#include "cli/train_task_flags.hpp"

namespace mmx::cli {

const TaskFlagSet& vit_flag_set() {
  static const TaskFlagSet set{"vit",
                               {{"--layers", {"/model/layers"}},
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
                                {"--attn", {"/model/attention"}},
                                {"--multimax-order", {"/model/multimax_order"}},
                                {"--multimax-per-head", {"/model/multimax_per_head"}},
                                {"--multimax-logits", {"/model/multimax_logits"}},
                                {"--eval-interval", {"/eval_interval"}},
                                {"--eval-batch", {"/val_images"}},
                                {"--seed", {"/seed"}},
                                {"--data", {"/data"}},
                                {"--precision", {"/precision"}},
                                {"--patch", {"/model/patch_size"}}}};
  return set;
}

void add_vit_only_flags(CLI::App& cmd) {
  cmd.add_option("--patch")
      ->description("vit: patch side in pixels, must divide the image side (default 7)")
      ->type_name("INT")
      ->check(CLI::Range(1, 1024));
}

}  // namespace mmx::cli
