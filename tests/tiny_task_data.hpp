// Tiny generated data sets for the trainers' tests, so they need neither fortunes, Fashion-MNIST
// nor the trans-de-en dictionary: a word corpus (lm), IDX image files (vit), a "ding" phrase
// file (mt).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/random.hpp"

// `count` words drawn from `words` by a Generator seeded `seed`, written to `file`: text a tiny
// GPT learns in a few steps (each test passes its own words, so the vocabularies differ).
inline std::filesystem::path write_word_corpus(const std::filesystem::path& file, uint64_t seed,
                                               const std::vector<std::string>& words, int count) {
  std::ofstream out(file);
  mmx::Generator gen(seed);
  for (int i = 0; i < count; ++i) out << words[static_cast<size_t>(gen.below(words.size()))];
  return file;
}

// Writes the four Fashion-MNIST file names (plain IDX: the reader accepts gzip or not) with
// `train` and `test` images of 8 x 8 pixels in 10 classes: class c lights row c % 8 and
// column c / 2 over noise, so a model can learn it.
inline void write_tiny_image_set(const std::filesystem::path& dir, int64_t train = 240,
                                 int64_t test = 60) {
  std::filesystem::create_directories(dir);
  mmx::Generator gen(7);
  const auto be32 = [](std::vector<uint8_t>& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
  };
  const auto write = [&](const char* prefix, int64_t n) {
    std::vector<uint8_t> images = {0, 0, 0x08, 3}, labels = {0, 0, 0x08, 1};
    be32(images, static_cast<uint32_t>(n));
    be32(images, 8);
    be32(images, 8);
    be32(labels, static_cast<uint32_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t label = static_cast<int64_t>(gen.below(10));
      labels.push_back(static_cast<uint8_t>(label));
      for (int64_t y = 0; y < 8; ++y)
        for (int64_t x = 0; x < 8; ++x) {
          const bool lit = y == label % 8 || x == label / 2;
          images.push_back(static_cast<uint8_t>((lit ? 160 : 0) + gen.below(90)));
        }
    }
    const auto save = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
      std::ofstream(dir / name, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()),
                 static_cast<std::streamsize>(bytes.size()));
    };
    save(std::string(prefix) + "-images-idx3-ubyte.gz", images);
    save(std::string(prefix) + "-labels-idx1-ubyte.gz", labels);
  };
  write("train", train);
  write("t10k", test);
}

// A dictionary of made-up but regular German -> English phrases ("ein kleines Haus :: a small
// house"), a few hundred lines, enough for every split to get pairs.
inline std::filesystem::path write_tiny_phrase_file(const std::filesystem::path& file) {
  const std::vector<std::pair<const char*, const char*>> nouns = {
      {"Haus", "house"}, {"Baum", "tree"},  {"Hund", "dog"},    {"Tisch", "table"},
      {"Weg", "path"},   {"Berg", "hill"},  {"Stuhl", "chair"}, {"Ball", "ball"},
      {"Fisch", "fish"}, {"Turm", "tower"}, {"Zug", "train"},   {"Hut", "hat"}};
  const std::vector<std::pair<const char*, const char*>> adjectives = {
      {"kleines", "small"}, {"altes", "old"},   {"neues", "new"},   {"rotes", "red"},
      {"gutes", "good"},    {"langes", "long"}, {"kaltes", "cold"}, {"warmes", "warm"},
      {"blaues", "blue"},   {"hohes", "high"}};
  std::ofstream out(file);
  out << "# tiny generated dictionary\n";
  for (const auto& [de, en] : nouns) out << de << " {m} :: " << en << "\n";
  for (const auto& [ade, aen] : adjectives)
    for (const auto& [de, en] : nouns) {
      out << ade << " " << de << " :: " << aen << " " << en << "\n";
      out << "ein " << ade << " " << de << " :: a " << aen << " " << en << "\n";
    }
  return file;
}

// The `mmx train` arguments (after the binary) of a tiny single-threaded lm run: steps take
// milliseconds, and a resume with `--threads 1` is bit-exact. It evaluates and saves every
// `eval_interval` steps.
inline std::vector<std::string> tiny_train_args(const std::filesystem::path& corpus,
                                                const std::filesystem::path& out, int steps,
                                                int eval_interval) {
  return {"train",
          "--data",
          corpus.string(),
          "--out",
          out.string(),
          "--d-model",
          "16",
          "--layers",
          "1",
          "--heads",
          "2",
          "--seq",
          "16",
          "--batch",
          "4",
          "--warmup",
          "1",
          "--eval-interval",
          std::to_string(eval_interval),
          "--eval-batch",
          "4",
          "--threads",
          "1",
          "--steps",
          std::to_string(steps),
          "--attn",
          "multimax"};
}
