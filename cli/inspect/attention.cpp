// `mmx attention`: where a trained model looks. For a GPT checkpoint and a --text, one heatmap
// per layer and head over the characters; for a ViT checkpoint and an --image of the test set,
// the same over the patches plus the image with each head's attention laid over it.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "cli/command_registry.hpp"
#include "cli/inspect/attention_figures.hpp"
#include "cli/inspect/attention_overlay.hpp"
#include "cli/threads.hpp"
#include "cli/whole_number.hpp"
#include "engine/autograd/no_grad.hpp"
#include "engine/error.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/data/image_dataset.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"
#include "nn/tasks/trainer.hpp"
#include "nn/tasks/vit/vit_trainer.hpp"

namespace mmx::cli {
namespace {

struct AttentionCommand {
  std::string checkpoint;
  std::string text;
  std::optional<int64_t> image;
  std::optional<int64_t> query;
  std::string out;
  int threads = 0;
};

void print_written(const std::vector<std::filesystem::path>& paths) {
  for (const std::filesystem::path& p : paths) std::printf("wrote %s\n", p.c_str());
}

void print_summary(const AttentionPicture& picture) {
  const int64_t heads = picture.layers.front().probabilities.size(1);
  std::printf("%-6s %-5s %6s %6s %9s\n", "layer", "head", "S", "M", "support");
  for (int64_t layer = 0; layer < static_cast<int64_t>(picture.layers.size()); ++layer)
    for (int64_t head = 0; head < heads; ++head) {
      const HeadSummary s = summarize_head(picture, layer, head);
      double support = 0;
      for (int64_t k : s.support) support += static_cast<double>(k);
      std::printf("%-6ld %-5ld %6.3f %6.3f %9.2f\n", layer, head, s.sparsity, s.multimodality,
                  support / static_cast<double>(s.support.size()));
    }
  std::printf(
      "(S, M: sparsity and multi-modality of the paper's Definitions 3.2-3.3, mean over the "
      "rows;\n support: mean number of keys with non-zero weight per query)\n");
}

void run_text(const AttentionCommand& c, const std::filesystem::path& out) {
  MMX_CHECK(!c.query, "attention: --query picks an image patch; it needs --image");
  const nn::LoadedModel loaded = nn::load_model(c.checkpoint);
  const nn::GPT& model = *loaded.model;
  std::vector<int64_t> ids;
  try {
    ids = loaded.tokenizer.encode_utf8(c.text);
  } catch (const Error& e) {
    throw Error(std::string("attention: --text cannot be fed to this model: ") + e.what());
  }
  const int64_t T = static_cast<int64_t>(ids.size());
  MMX_CHECK(T >= 1, "attention: --text is empty");
  MMX_CHECK(T <= model.config().seq_len, "attention: --text has ", T,
            " characters; the model's context is ", model.config().seq_len);
  AttentionPicture picture;
  picture.layers = model.attention_maps(ids, 1, T);
  picture.labels = character_labels(loaded.tokenizer, ids);
  picture.normalizer = nn::attention_kind_name(model.config().attention.kind);
  picture.position_name = "character";
  picture.causal = true;
  std::printf("%s attention of the step-%ld checkpoint %s on %ld characters\n",
              picture.normalizer.c_str(), loaded.step, c.checkpoint.c_str(), T);
  print_summary(picture);
  print_written(write_attention_heatmaps(picture, out));
}

void run_image(const AttentionCommand& c, const std::filesystem::path& out) {
  const data::Checkpoint checkpoint = data::load_checkpoint(c.checkpoint);
  const std::string task = nn::checkpoint_task(checkpoint.model_metadata);
  MMX_CHECK(task == "vit", "attention: --image needs a ViT checkpoint; ", c.checkpoint,
            " holds a '", task, "' run (give it --text)");
  const nn::LoadedVit loaded = nn::load_vit(checkpoint, c.checkpoint);
  const nn::ViT& model = *loaded.model;
  // The test split read again is normalized as in training (the statistics come from the
  // training pixels).
  const std::string folder = loaded.data.empty() ? data::kFashionMnistDir : loaded.data;
  const data::FashionMnist mnist = data::load_fashion_mnist(folder);
  MMX_CHECK(*c.image < mnist.test.size(), "attention: --image ", *c.image, " is past the ",
            mnist.test.size(), " test images");
  const data::ImageBatch batch = mnist.test.range(*c.image, 1);
  const nn::ViTConfig& config = model.config();
  MMX_CHECK(!c.query || *c.query < config.tokens(), "attention: --query ", c.query.value_or(0),
            " is not a patch (0..", config.tokens() - 1, ")");

  ImageAttention image;
  image.patch_size = config.patch_size;
  image.query = c.query;
  image.image = batch.images.reshape({config.channels, config.image_size, config.image_size});
  AttentionPicture& picture = image.picture;
  std::vector<float> logits;
  {
    NoGrad no_grad;
    logits = model.forward(batch.images, &picture.layers).to_vector();
  }
  picture.labels = patch_labels(config.patches_per_side());
  picture.normalizer = nn::attention_kind_name(config.attention.kind);
  picture.position_name = "patch (row,col)";
  picture.causal = false;
  const auto class_name = [](int64_t k) -> std::string {
    const auto& names = data::fashion_mnist_class_names();
    return k < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(k)]
                                                  : "class " + std::to_string(k);
  };
  const int64_t predicted = std::max_element(logits.begin(), logits.end()) - logits.begin();
  image.caption = "test image " + std::to_string(*c.image) + ": " +
                  class_name(batch.labels.front()) + ", predicted " + class_name(predicted);
  std::printf("%s attention of the step-%ld checkpoint %s on %s\n", picture.normalizer.c_str(),
              loaded.step, c.checkpoint.c_str(), image.caption.c_str());
  print_summary(picture);
  std::vector<std::filesystem::path> written = write_attention_heatmaps(picture, out);
  written.push_back(write_attention_overlay(image, out / "attention_image.png"));
  print_written(written);
}

void run_attention(const AttentionCommand& c) {
  MMX_CHECK(std::filesystem::is_directory(c.checkpoint), "attention: --ckpt ", c.checkpoint,
            " is not a directory");
  MMX_CHECK(
      c.text.empty() != !c.image.has_value(),
      "attention: give exactly one of --text (a GPT checkpoint) or --image (a ViT checkpoint)");
  const std::filesystem::path out = c.out.empty()
                                        ? std::filesystem::path(c.checkpoint) / "attention"
                                        : std::filesystem::path(c.out);
  // Made before the work, so a path that cannot be a folder fails first, naming the flag.
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  MMX_CHECK(!ec, "attention: cannot create the --out folder ", out.string(), ": ", ec.message());
  if (!c.text.empty()) return run_text(c, out);
  run_image(c, out);
}

const bool registered = register_command([](CLI::App& app) {
  auto c = std::make_shared<AttentionCommand>();
  auto* cmd = app.add_subcommand("attention",
                                 "Draw where a trained model looks: attention "
                                 "heatmaps per layer and head");
  cmd->add_option("--ckpt", c->checkpoint, "Checkpoint directory written by `mmx train`")
      ->required();
  cmd->add_option("--text", c->text, "Text to run through a GPT (characters of its vocabulary)");
  cmd->add_option("--image", c->image, "Index of a Fashion-MNIST test image to run through a ViT")
      ->check(whole_number(0, INT64_MAX));
  cmd->add_option("--query", c->query,
                  "ViT: show the weights of this query patch (row-major); default: the mean row")
      ->check(whole_number(0, INT64_MAX));
  cmd->add_option("--out", c->out, "Folder for the PNGs (default: <ckpt>/attention)");
  add_threads_option(cmd, c->threads);
  cmd->callback([c] {
    apply_threads(c->threads);
    run_attention(*c);
  });
});

}  // namespace
}  // namespace mmx::cli
