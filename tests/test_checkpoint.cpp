// Checkpoints: the round trip, the files on disk as a plain safetensors reader sees them, and
// one case per way a checkpoint can be inconsistent or corrupt (each must fail whole, by name).
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "engine/io/atomic_write.hpp"
#include "engine/io/read_file.hpp"
#include "nn/data/char_tokenizer.hpp"
#include "nn/data/checkpoint.hpp"
#include "tests/scratch_dir.hpp"

using namespace mmx;
using namespace mmx::data;
namespace fs = std::filesystem;

namespace {

Checkpoint sample_checkpoint(int64_t step) {
  Generator gen(static_cast<uint64_t>(step));
  Checkpoint c;
  c.step = step;
  c.model = {{"tok.weight", Tensor::randn({5, 4}, gen)},
             {"pos", Tensor::randn({3, 4}, gen)},
             {"blocks.0.attn.qkv.weight", Tensor::randn({4, 12}, gen)}};
  c.model_metadata = {{"config", {{"layers", 1}, {"dim", 4}, {"attention", "multimax"}}},
                      {"vocab", CharTokenizer::from_text(U"hello").to_json()},
                      {"rng", generator_state_to_json(gen.state())},
                      {"note", "plain text"}};
  c.optimizer = {{"tok.weight.m", Tensor::zeros({5, 4})},
                 {"tok.weight.v", Tensor::full({5, 4}, 0.5f)}};
  c.optimizer_metadata = {{"kind", "adamw"}, {"t", step}};
  return c;
}

void check_same_tensors(const io::NamedTensors& a, const io::NamedTensors& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second.shape() == b[i].second.shape());
    CHECK(a[i].second.to_vector() == b[i].second.to_vector());
  }
}

void overwrite(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string load_error(const fs::path& dir) {
  try {
    load_checkpoint(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("round trip: tensors, metadata and step come back exactly") {
  ScratchDir dir("ckpt");
  const Checkpoint saved = sample_checkpoint(42);
  save_checkpoint(dir / "run", saved);
  const Checkpoint loaded = load_checkpoint(dir / "run");
  CHECK(loaded.step == 42);
  check_same_tensors(loaded.model, saved.model);
  check_same_tensors(loaded.optimizer, saved.optimizer);
  CHECK(loaded.model_metadata == saved.model_metadata);
  CHECK(loaded.optimizer_metadata == saved.optimizer_metadata);
  CHECK(CharTokenizer::from_json(loaded.model_metadata["vocab"]).vocab_size() == 4);
  for (const char* leftover :
       {"model.safetensors.tmp", "optimizer.safetensors.tmp", "checkpoint.json.tmp"})
    CHECK_FALSE(fs::exists(dir / "run" / leftover));
}

TEST_CASE("on disk: plain safetensors files with JSON-encoded metadata strings") {
  ScratchDir dir("ckpt-disk");
  save_checkpoint(dir.path, sample_checkpoint(7));
  const io::SafetensorsContents model = io::load_safetensors(dir / kModelFile);
  CHECK(model.metadata.at("mmx.step") == "7");
  CHECK(nlohmann::json::parse(model.metadata.at("config"))["attention"] == "multimax");
  CHECK(model.metadata.at("note") == "\"plain text\"");
  CHECK(model.tensors[2].first == "blocks.0.attn.qkv.weight");
  const auto manifest = nlohmann::json::parse(io::read_file_bytes(dir / kManifestFile));
  CHECK(manifest["step"] == 7);
  CHECK(manifest["files"][kOptimizerFile]["bytes"] == fs::file_size(dir / kOptimizerFile));
}

TEST_CASE("saving again replaces the checkpoint") {
  ScratchDir dir("ckpt-again");
  save_checkpoint(dir.path, sample_checkpoint(1));
  save_checkpoint(dir.path, sample_checkpoint(2));
  const Checkpoint loaded = load_checkpoint(dir.path);
  CHECK(loaded.step == 2);
  check_same_tensors(loaded.model, sample_checkpoint(2).model);
}

TEST_CASE("an interrupted save (new model, old optimizer and manifest) is refused") {
  ScratchDir dir("ckpt-torn");
  save_checkpoint(dir / "a", sample_checkpoint(1));
  save_checkpoint(dir / "b", sample_checkpoint(2));
  fs::copy_file(dir / "b" / kModelFile, dir / "a" / kModelFile,
                fs::copy_options::overwrite_existing);
  const std::string message = load_error(dir / "a");
  CHECK(message.find((dir / "a" / kModelFile).string()) != std::string::npos);
  CHECK(message.find("does not match checkpoint.json") != std::string::npos);
}

TEST_CASE("corruption and inconsistency: each raises an error naming the file") {
  ScratchDir dir("ckpt-bad");
  const fs::path ck = dir / "ck";
  auto fresh = [&] { save_checkpoint(ck, sample_checkpoint(3)); };
  auto manifest = [&] { return nlohmann::json::parse(io::read_file_bytes(ck / kManifestFile)); };

  SUBCASE("a flipped data byte in the optimizer file") {
    fresh();
    std::string bytes = io::read_file_bytes(ck / kOptimizerFile);
    bytes[bytes.size() - 1] ^= 0x01;
    overwrite(ck / kOptimizerFile, bytes);
    CHECK(load_error(ck).find(kOptimizerFile) != std::string::npos);
  }
  SUBCASE("manifest step disagrees with the files") {
    fresh();
    auto m = manifest();
    m["step"] = 5;
    overwrite(ck / kManifestFile, m.dump());
    CHECK(load_error(ck).find("is from step 3 but checkpoint.json says step 5") !=
          std::string::npos);
  }
  SUBCASE("missing manifest") {
    fresh();
    fs::remove(ck / kManifestFile);
    CHECK(load_error(ck).find("checkpoint.json is missing") != std::string::npos);
  }
  SUBCASE("missing optimizer file") {
    fresh();
    fs::remove(ck / kOptimizerFile);
    CHECK(load_error(ck).find(kOptimizerFile) != std::string::npos);
  }
  SUBCASE("manifest is not JSON") {
    fresh();
    overwrite(ck / kManifestFile, "{ nope");
    CHECK(load_error(ck).find("checkpoint.json is not valid JSON") != std::string::npos);
  }
  SUBCASE("manifest from a future version") {
    fresh();
    auto m = manifest();
    m["version"] = 2;
    overwrite(ck / kManifestFile, m.dump());
    CHECK(load_error(ck).find("has version 2") != std::string::npos);
  }
  SUBCASE("manifest entry with the wrong types") {
    fresh();
    auto m = manifest();
    m["files"][kModelFile]["bytes"] = "many";
    overwrite(ck / kManifestFile, m.dump());
    CHECK(load_error(ck).find("needs \"bytes\" and \"fnv1a64\"") != std::string::npos);
  }
  SUBCASE("not a directory") {
    CHECK(load_error(dir / "absent").find("is not a directory") != std::string::npos);
  }
}

TEST_CASE("save refuses reserved keys and non-object metadata, naming the file") {
  ScratchDir dir("ckpt-save");
  Checkpoint c = sample_checkpoint(1);
  c.model_metadata["mmx.step"] = 9;
  CHECK_THROWS_WITH_AS(save_checkpoint(dir.path, c),
                       doctest::Contains("model.safetensors metadata key 'mmx.step'"), Error);
  c = sample_checkpoint(1);
  c.optimizer_metadata = nlohmann::json::array();
  CHECK_THROWS_WITH_AS(save_checkpoint(dir.path, c),
                       doctest::Contains("optimizer.safetensors metadata must be a JSON object"),
                       Error);
  c = sample_checkpoint(1);
  c.model.push_back(c.model[0]);
  CHECK_THROWS_WITH_AS(save_checkpoint(dir.path, c),
                       doctest::Contains("duplicate tensor name 'tok.weight'"), Error);
}

TEST_CASE("generator state survives JSON exactly") {
  Generator gen(123);
  for (int i = 0; i < 5; ++i) gen.next_u64();
  Generator resumed(0);
  resumed.set_state(generator_state_from_json(
      nlohmann::json::parse(generator_state_to_json(gen.state()).dump())));
  CHECK(resumed.next_u64() == gen.next_u64());
  CHECK_THROWS_WITH_AS(generator_state_from_json(nlohmann::json::parse(R"(["1","2","3"])")),
                       doctest::Contains("expected 4 hex strings"), Error);
  CHECK_THROWS_WITH_AS(
      generator_state_from_json(nlohmann::json::parse(
          R"(["zz00000000000000","0000000000000000","0000000000000000","0000000000000000"])")),
      doctest::Contains("word 0"), Error);
}
