// The toy translation the seq2seq tests train on: reverse a string of 2 to `longest` letters.
// A small Seq2Seq learns it in a few hundred steps; one trained a few dozen steps already answers
// each source differently. The pairs come from one Generator seeded 42, so a test that draws the
// same calls in the same order sees the same pairs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/random.hpp"
#include "engine/tensor.hpp"
#include "nn/data/phrase_pairs.hpp"
#include "nn/models/seq2seq.hpp"
#include "nn/optim/adamw.hpp"
#include "nn/tasks/mt/translation_vocab.hpp"

struct ReversalTask {
  ReversalTask(std::string letters_, int64_t longest_)
      : letters(std::move(letters_)),
        longest(longest_),
        vocab(mmx::nn::TranslationVocab::from_pairs({{letters, letters}})) {}

  const std::string letters;
  const int64_t longest;  // letters in the longest string
  const mmx::nn::TranslationVocab vocab;
  mmx::Generator gen{42};

  // A string of 2 to `longest` letters and its reverse.
  mmx::data::PhrasePair random_pair() {
    const int64_t len = 2 + static_cast<int64_t>(gen.uniform() * (longest - 1));
    std::string s;
    for (int64_t i = 0; i < len; ++i)
      s.push_back(letters[static_cast<size_t>(gen.uniform() * letters.size())]);
    return {s, std::string(s.rbegin(), s.rend())};
  }

  // A model for the task, 32 wide with 2 heads and SoftMax everywhere (each test chooses where
  // MultiMax goes), with a position to spare beyond the longest source and beyond the longest
  // target (BOS or EOS and `longest` letters).
  mmx::nn::Seq2SeqConfig config(int64_t encoder_layers, int64_t decoder_layers) const {
    mmx::nn::Seq2SeqConfig c;
    c.vocab = vocab.size();
    c.d_model = 32;
    c.heads = 2;
    c.encoder_layers = encoder_layers;
    c.decoder_layers = decoder_layers;
    c.max_source_len = longest + 1;
    c.max_target_len = longest + 2;
    return c;
  }

  // Trains `model` `steps` AdamW steps (lr 3e-3, betas 0.9 and 0.98, no weight decay), each on
  // `batch` new pairs; returns the losses of the first and of the last step.
  std::pair<float, float> train(mmx::nn::Seq2Seq& model, int steps, int batch) {
    mmx::nn::AdamW optimizer(model.named_parameters(), {3e-3f, 0.9f, 0.98f, 1e-8f, 0.0f});
    float first = 0, last = 0;
    for (int step = 0; step < steps; ++step) {
      std::vector<mmx::data::PhrasePair> pairs;
      for (int i = 0; i < batch; ++i) pairs.push_back(random_pair());
      const mmx::nn::Seq2SeqBatch b = mmx::nn::make_batch(vocab, pairs);
      optimizer.zero_grad();
      mmx::Tensor loss =
          model.loss(b.source, b.source_len, b.target_in, b.target_out, b.target_len, b.batch);
      loss.backward();
      optimizer.step();
      (step == 0 ? first : last) = loss.item();
    }
    return {first, last};
  }
};
