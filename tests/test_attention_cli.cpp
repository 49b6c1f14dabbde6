// `mmx attention` as a user runs it on a checkpoint `mmx train` wrote: one PNG per layer plus an
// overview, each a readable image, a per-head table on stdout, and one clear line for bad input.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/random.hpp"
#include "mmx_cli.hpp"
#include "plot/png_io.hpp"
#include "scratch_dir.hpp"

namespace {

// Pixels the heatmaps paint for an exactly-zero weight.
bool has_grey_cells(const mmx::plot::RgbImage& image) {
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      if (image.at(x, y) == mmx::plot::Color{200, 200, 200}) return true;
  return false;
}

}  // namespace

TEST_CASE("mmx attention: heatmaps per layer for a GPT checkpoint; bad input is refused") {
  ScratchDir dir("attention-cli");
  {
    std::ofstream out(dir / "corpus.txt");
    mmx::Generator gen(5);
    const char* words[] = {"red ", "green ", "blue\n", "cyan, "};
    for (int i = 0; i < 2000; ++i) out << words[gen.below(4)];
  }
  const std::string ckpt = (dir / "run").string();
  REQUIRE(run_mmx("train --data " + (dir / "corpus.txt").string() + " --out " + ckpt +
                  " --d-model 16 --layers 2 --heads 2 --seq 16 --batch 4 --steps 10 --warmup 1"
                  " --eval-interval 10 --eval-batch 4 --attn sparsemax --threads 1")
              .exit_code == 0);

  const std::string pictures = (dir / "pictures").string();
  const CliResult r = run_mmx("attention --ckpt " + ckpt + " --text 'red green\ncyan' --out " +
                              pictures + " --threads 1");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("sparsemax attention") != std::string::npos);
  CHECK(r.output.find("support") != std::string::npos);
  for (const char* name :
       {"attention_layer0.png", "attention_layer1.png", "attention_overview.png"}) {
    CAPTURE(name);
    const std::string path = pictures + "/" + name;
    CHECK(r.output.find("wrote " + path) != std::string::npos);
    const mmx::plot::RgbImage image = mmx::plot::read_png(path);
    CHECK(image.width >= 400);
    CHECK(image.height >= 300);
    CHECK(has_grey_cells(image));  // at least the causal mask's zeros
  }
  CHECK_FALSE(std::filesystem::exists(pictures + "/attention_layer2.png"));
  // Without --out the pictures go beside the checkpoint.
  REQUIRE(run_mmx("attention --ckpt " + ckpt + " --text 'red'").exit_code == 0);
  CHECK(std::filesystem::exists(ckpt + "/attention/attention_overview.png"));

  struct Case {
    std::string arguments;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"attention --ckpt " + ckpt + " --text 'Zebra'", "U+005A"},
      {"attention --ckpt " + ckpt + " --text 'red green blue red'", "context is 16"},
      {"attention --ckpt " + ckpt, "exactly one of --text"},
      {"attention --ckpt " + ckpt + " --text red --image 3", "exactly one of --text"},
      {"attention --ckpt " + ckpt + " --image 3", "ViT checkpoint"},
      {"attention --ckpt " + ckpt + " --text red --query 2", "--query"},
      {"attention --ckpt " + (dir / "missing").string() + " --text red", "missing"},
      {"attention --ckpt " + dir.path.string() + " --text red", "checkpoint"},
      {"attention --text red", "--ckpt"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    const CliResult bad = run_mmx(c.arguments);
    CHECK(bad.exit_code != 0);
    CHECK(bad.output.find(c.expected) != std::string::npos);
    CHECK(bad.output.find("wrote") == std::string::npos);
  }
}

TEST_CASE("mmx attention: a ViT checkpoint on a test image gives heatmaps and the image overlay") {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
    MESSAGE("Fashion-MNIST is not installed (Debian package dataset-fashion-mnist); skipped");
    return;
  }
  ScratchDir dir("attention-vit-cli");
  const std::string ckpt = (dir / "vit").string();
  REQUIRE(run_mmx("train --task vit --attn sparsemax --steps 4 --warmup 1 --batch 16 --d-model 16"
                  " --layers 1 --heads 2 --eval-interval 4 --out " +
                  ckpt + " --threads 1")
              .exit_code == 0);
  const std::string pictures = (dir / "pictures").string();
  const CliResult r = run_mmx("attention --ckpt " + ckpt + " --image 3 --query 5 --out " +
                              pictures + " --threads 1");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("test image 3: ") != std::string::npos);
  for (const char* name :
       {"attention_layer0.png", "attention_overview.png", "attention_image.png"}) {
    CAPTURE(name);
    CHECK(r.output.find("wrote " + pictures + "/" + name) != std::string::npos);
    CHECK(mmx::plot::read_png(pictures + "/" + name).width >= 400);
  }
  // The overlay outlines the query patch in red.
  const mmx::plot::RgbImage overlay = mmx::plot::read_png(pictures + "/attention_image.png");
  bool red = false;
  for (int y = 0; y < overlay.height && !red; ++y)
    for (int x = 0; x < overlay.width && !red; ++x)
      red = overlay.at(x, y) == mmx::plot::Color{230, 30, 30};
  CHECK(red);

  struct Case {
    std::string arguments;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"attention --ckpt " + ckpt + " --text abc", "not a language model"},
      {"attention --ckpt " + ckpt + " --image 10000", "past the 10000 test images"},
      {"attention --ckpt " + ckpt + " --image 0 --query 16", "--query 16 is not a patch"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    const CliResult bad = run_mmx(c.arguments);
    CHECK(bad.exit_code != 0);
    CHECK(bad.output.find(c.expected) != std::string::npos);
  }
}
