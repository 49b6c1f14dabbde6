// Fault injection on real training checkpoints: damaged files (truncated, every header byte
// flipped, a tensor missing, reshaped or of another dtype, a config that does not fit) are
// refused with an error naming the file, and nothing half-loaded; a save that hits a full disk
// at any byte, a read-only directory or a kill mid-rename leaves the previous checkpoint
// loadable. test_checkpoint.cpp covers the format itself.
#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "engine/error.hpp"
#include "engine/io/atomic_write.hpp"
#include "engine/io/read_file.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/tasks/lm/lm_trainer.hpp"
#include "plot/png_io.hpp"
#include "scratch_dir.hpp"
#include "tiny_task_data.hpp"

using namespace mmx;
namespace fs = std::filesystem;

namespace {

fs::path write_corpus(const ScratchDir& dir) {
  return write_word_corpus(dir / "corpus.txt", 21, {"north ", "south ", "east\n", "west, "}, 1500);
}

nn::TrainOptions tiny_options(const fs::path& corpus) {
  nn::TrainOptions o;
  o.model.d_model = 8;
  o.model.layers = 1;
  o.model.heads = 2;
  o.model.seq_len = 8;
  o.model.attention.kind = nn::AttentionKind::MultiMax;
  o.batch = 2;
  o.steps = 10;
  o.warmup = 1;
  o.eval_interval = 5;
  o.eval_batch = 2;
  o.data = corpus.string();
  return o;
}

// The same FNV-1a 64 as the manifest, so a test can damage a file and keep the manifest
// consistent: the damage then reaches the safetensors parser instead of the hash check.
std::string fnv1a64_hex(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Replaces `file` in checkpoint `dir` and updates the manifest's size and hash to match.
void replace_with_matching_manifest(const fs::path& dir, const char* file,
                                    const std::string& bytes) {
  write_bytes(dir / file, bytes);
  nlohmann::json manifest = nlohmann::json::parse(io::read_file_bytes(dir / data::kManifestFile));
  manifest["files"][file] = {{"bytes", bytes.size()}, {"fnv1a64", fnv1a64_hex(bytes)}};
  write_bytes(dir / data::kManifestFile, manifest.dump());
}

std::string resume_error(const fs::path& dir) {
  try {
    nn::LMTrainer::resume(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every tensor of `a` equals the one of the same name in `b`, bit for bit.
bool same_state(const io::NamedTensors& a, const io::NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || a[i].second.to_vector() != b[i].second.to_vector())
      return false;
  return true;
}

std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".tmp") || name.ends_with(".prev")) out.push_back(name);
  }
  return out;
}

// A trained run's checkpoint in <scratch>/good, and the trainer that wrote it.
struct SavedRun {
  ScratchDir scratch{"ckpt-faults"};
  fs::path good = scratch / "good";
  std::unique_ptr<nn::LMTrainer> trainer;
  SavedRun() {
    trainer = std::make_unique<nn::LMTrainer>(tiny_options(write_corpus(scratch)));
    trainer->train_step();
    trainer->save(good);
  }
  fs::path copy(const std::string& name) const {
    const fs::path to = scratch / name;
    fs::copy(good, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    return to;
  }
};

}  // namespace

TEST_CASE("damaged checkpoints: each error names the file and the problem") {
  SavedRun run;
  const std::string model = io::read_file_bytes(run.good / data::kModelFile);
  const uint64_t header_bytes = static_cast<unsigned char>(model[0]) |
                                (static_cast<uint64_t>(static_cast<unsigned char>(model[1])) << 8);
  struct Row {
    const char* name;
    std::function<void(const fs::path&)> damage;
    const char* file;     // the file the error must name
    const char* problem;  // and the words that say what is wrong
  };
  const std::vector<Row> rows = {
      {"truncated model file",
       [&](const fs::path& d) {
         write_bytes(d / data::kModelFile, model.substr(0, model.size() / 2));
       },
       data::kModelFile, "does not match"},
      {"truncated, manifest rewritten to match",
       [&](const fs::path& d) {
         replace_with_matching_manifest(d, data::kModelFile, model.substr(0, model.size() - 4));
       },
       data::kModelFile, "exceed the"},
      {"cut inside the header",
       [&](const fs::path& d) {
         replace_with_matching_manifest(d, data::kModelFile, model.substr(0, 40));
       },
       data::kModelFile, "truncated file"},
      {"empty model file",
       [&](const fs::path& d) { replace_with_matching_manifest(d, data::kModelFile, ""); },
       data::kModelFile, "too short"},
      {"flipped byte in the header",
       [&](const fs::path& d) {
         std::string b = model;
         b[8] = '[';
         write_bytes(d / data::kModelFile, b);
       },
       data::kModelFile, "does not match"},
      {"F16 dtype",
       [&](const fs::path& d) {
         std::string b = model;
         b.replace(b.find("F32"), 3, "F16");
         replace_with_matching_manifest(d, data::kModelFile, b);
       },
       data::kModelFile, "dtype F16 is not supported"},
      {"huge shape claim",
       [&](const fs::path& d) {
         std::string b = model;
         const size_t at = b.find("\"shape\":[");
         b.replace(at, 9, "\"shape\":[99999999,");  // the header length changes: fix it up
         const uint64_t n = header_bytes + 9;
         for (int i = 0; i < 8; ++i)
           b[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
         replace_with_matching_manifest(d, data::kModelFile, b);
       },
       data::kModelFile, "needs"},
      {"missing optimizer file", [&](const fs::path& d) { fs::remove(d / data::kOptimizerFile); },
       data::kOptimizerFile, "cannot open"},
      {"manifest replaced by a directory",
       [&](const fs::path& d) {
         fs::remove(d / data::kManifestFile);
         fs::create_directory(d / data::kManifestFile);
       },
       data::kManifestFile, "is a directory"},
  };
  for (const Row& row : rows) {
    CAPTURE(std::string(row.name));
    const fs::path dir = run.copy("damaged");
    row.damage(dir);
    const std::string message = resume_error(dir);
    CHECK_MESSAGE(contains(message, (dir / row.file).string()), message);
    CHECK_MESSAGE(contains(message, row.problem), message);
    fs::remove_all(dir);
  }
}

TEST_CASE("a checkpoint that does not fit the model: missing tensor, wrong shape, other config") {
  SavedRun run;
  const data::Checkpoint good = data::load_checkpoint(run.good);
  struct Row {
    const char* name;
    std::function<void(data::Checkpoint&)> change;
    const char* problem;
  };
  const std::vector<Row> rows = {
      {"a tensor missing", [](data::Checkpoint& c) { c.model.pop_back(); }, "missing tensor"},
      {"a tensor of the wrong shape",
       [](data::Checkpoint& c) {
         c.model.front().second = Tensor::zeros({3, 5});
       },
       "has shape [3, 5]"},
      {"an extra tensor",
       [](data::Checkpoint& c) { c.model.emplace_back("stray.weight", Tensor::zeros({2})); },
       "unexpected tensor 'stray.weight'"},
      {"a config wider than the tensors",
       [](data::Checkpoint& c) { c.model_metadata["train_options"]["model"]["d_model"] = 16; },
       "shape"},
      {"a config that fails validation",
       [](data::Checkpoint& c) { c.model_metadata["train_options"]["model"]["heads"] = 3; },
       "heads"},
      {"options missing", [](data::Checkpoint& c) { c.model_metadata.erase("train_options"); },
       "train_options"},
  };
  for (const Row& row : rows) {
    CAPTURE(std::string(row.name));
    data::Checkpoint changed = good;
    row.change(changed);
    const fs::path dir = run.scratch / "changed";
    data::save_checkpoint(dir, changed);
    const std::string message = resume_error(dir);
    CHECK_MESSAGE(contains(message, row.problem), message);
    fs::remove_all(dir);
  }

  // No partial state: a refused state dict leaves every parameter of the live model as it was.
  nn::GPT& model = run.trainer->model();
  const io::NamedTensors before = model.state_dict();
  io::NamedTensors bad = data::load_checkpoint(run.good).model;
  for (auto& [name, tensor] : bad) tensor = Tensor::full(tensor.shape(), 7.0f);
  bad.back().second = Tensor::zeros({1});  // the last one is wrong, after all the others
  CHECK_THROWS_AS(model.load_state_dict(bad), Error);
  CHECK(same_state(model.state_dict(), before));
}

TEST_CASE("every flipped header byte: a clear error or a consistent load, never a crash") {
  SavedRun run;
  const fs::path model_path = run.good / data::kModelFile;
  const std::string model = io::read_file_bytes(model_path);
  const size_t header_end = 8 + (static_cast<unsigned char>(model[0]) |
                                 (static_cast<size_t>(static_cast<unsigned char>(model[1])) << 8));
  // In memory, past the manifest's hash (which would catch every flip): the parser and the
  // model's load are what is tested here.
  nn::GPT target(run.trainer->options().model);
  int refused = 0, loaded = 0;
  for (size_t at = 0; at < header_end; ++at) {
    std::string bytes = model;
    bytes[at] =
        static_cast<char>(bytes[at] ^ 0x20);  // letters change case, digits and quotes break
    try {
      target.load_state_dict(io::parse_safetensors(bytes, model_path.string()).tensors);
      ++loaded;  // the flip changed a metadata string or the padding, not the structure
    } catch (const Error& e) {
      const std::string message = e.what();
      // The file, or (for a name or shape the model rejects) the tensor, is named.
      CHECK_MESSAGE(
          (contains(message, model_path.string()) || contains(message, "load_state_dict")),
          message);
      ++refused;
    }
  }
  MESSAGE("header bytes flipped: ", header_end, " (", refused, " refused, ", loaded, " loaded)");
  CHECK(refused > static_cast<int>(header_end) / 2);
}

TEST_CASE("a full disk at any byte of a save leaves the previous checkpoint whole") {
  SavedRun run;
  const data::Checkpoint before = data::load_checkpoint(run.good);
  run.trainer->train_step();  // the next save differs from the one on disk
  const int64_t total =
      static_cast<int64_t>(io::read_file_bytes(run.good / data::kModelFile).size() +
                           io::read_file_bytes(run.good / data::kOptimizerFile).size());
  int faults = 0;
  for (int64_t fail_at = 0; fail_at < total + 200; fail_at += std::max<int64_t>(1, total / 47)) {
    CAPTURE(fail_at);
    io::inject_write_failure_after(fail_at);
    std::string message;
    try {
      run.trainer->save(run.good);
    } catch (const Error& e) {
      message = e.what();
    }
    io::inject_write_failure_after(-1);
    REQUIRE_MESSAGE(contains(message, "No space left on device"), message);
    CHECK(contains(message, run.good.string()));
    const data::Checkpoint after = data::load_checkpoint(run.good);
    CHECK(after.step == before.step);
    CHECK(same_state(after.model, before.model));
    CHECK(same_state(after.optimizer, before.optimizer));
    CHECK(leftovers(run.good).empty());
    ++faults;
  }
  MESSAGE("write faults injected: ", faults);
  run.trainer->save(run.good);  // the disk has room again
  CHECK(data::load_checkpoint(run.good).step == before.step + 1);
  CHECK(leftovers(run.good).empty());
}

TEST_CASE("a kill between the renames: the *.prev backup loads, the next save cleans up") {
  SavedRun run;
  const fs::path dir = run.good;
  // What a kill after the model's rename leaves: the backup links (manifest last), the new
  // model renamed in, the old optimizer and manifest.
  for (const char* file : {data::kModelFile, data::kOptimizerFile, data::kManifestFile})
    fs::create_hard_link(dir / file, dir / (std::string(file) + ".prev"));
  run.trainer->train_step();
  run.trainer->save(run.scratch / "next");
  fs::rename(run.scratch / "next" / data::kModelFile,
             dir / data::kModelFile);  // the link keeps the old file

  const data::Checkpoint recovered = data::load_checkpoint(dir);
  CHECK(recovered.step == 1);
  CHECK(nn::LMTrainer::resume(dir)->step() == 1);

  run.trainer->save(dir);  // the broken set is not backed up over the good backup
  CHECK(data::load_checkpoint(dir).step == 2);
  CHECK(leftovers(dir).empty());
}

TEST_CASE("a read-only directory and a small full tmpfs: clear errors, previous checkpoint kept") {
  SavedRun run;
  SUBCASE("read-only directory") {
    fs::permissions(run.good,
                    fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                    fs::perm_options::remove);
    if (::geteuid() == 0) {
      MESSAGE(
          "skipped: running as root, which writes through permission bits (the injected "
          "write fault above covers the same path)");
    } else {
      run.trainer->train_step();
      CHECK_THROWS_WITH_AS(run.trainer->save(run.good), doctest::Contains("Permission denied"),
                           Error);
      CHECK(data::load_checkpoint(run.good).step == 1);
    }
    fs::permissions(run.good, fs::perms::owner_all, fs::perm_options::add);
  }
  SUBCASE("tmpfs too small for a second copy") {
    const fs::path mount_point = run.scratch / "tmpfs";
    fs::create_directory(mount_point);
    // Room for one checkpoint (a few tens of KB) and its temporaries, not for two of each.
    const int64_t one = static_cast<int64_t>(fs::file_size(run.good / data::kModelFile) +
                                             fs::file_size(run.good / data::kOptimizerFile));
    const std::string options = "size=" + std::to_string((one * 3 / 2 / 4096 + 2) * 4096);
    if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      MESSAGE("skipped: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)");
      return;
    }
    const fs::path dir = mount_point / "run";
    run.trainer->save(dir);
    run.trainer->train_step();
    CHECK_THROWS_WITH_AS(run.trainer->save(dir), doctest::Contains("No space left on device"),
                         Error);
    CHECK(data::load_checkpoint(dir).step == 1);
    CHECK(leftovers(dir).empty());
    ::umount(mount_point.c_str());
  }
  SUBCASE("filesystem remounted read-only") {
    const fs::path mount_point = run.scratch / "tmpfs";
    fs::create_directory(mount_point);
    if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=4m") != 0) {
      MESSAGE("skipped: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)");
      return;
    }
    const fs::path dir = mount_point / "run";
    run.trainer->save(dir);
    REQUIRE(::mount("tmpfs", mount_point.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, "size=4m") == 0);
    run.trainer->train_step();
    CHECK_THROWS_WITH_AS(run.trainer->save(dir), doctest::Contains("Read-only file system"), Error);
    CHECK(data::load_checkpoint(dir).step == 1);
    ::umount(mount_point.c_str());
  }
}

TEST_CASE("a FIFO (or device) in the way is refused, never replaced by the rename") {
  // As root, `mmx modulators --out /dev/null` once renamed a PNG over the machine's /dev/null.
  // A FIFO stands in for the device: it needs no root and is never opened here.
  ScratchDir scratch{"ckpt-fifo"};
  const fs::path fifo = scratch / "out.png";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  CHECK_THROWS_WITH_AS(mmx::io::write_file_atomically(fifo, "bytes"),
                       doctest::Contains("is a device, FIFO or socket, not a regular file"),
                       mmx::Error);
  // The PNG writer goes through the same writer.
  const mmx::plot::RgbImage pixel{.width = 1, .height = 1, .pixels = {0, 0, 0}};
  CHECK_THROWS_WITH_AS(mmx::plot::write_png(fifo.string(), pixel),
                       doctest::Contains("is a device, FIFO or socket, not a regular file"),
                       mmx::Error);
  CHECK(fs::is_fifo(fifo));
  CHECK(!fs::exists(fifo.string() + ".tmp"));
}
