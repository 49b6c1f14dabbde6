/// \file
/// TranslationVocab: the character ids of a Seq2Seq translator (one vocabulary for source and
/// target, after the PAD/BOS/EOS ids), and the padded training batches built from phrase pairs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nn/data/char_tokenizer.hpp"
#include "nn/data/phrase_pairs.hpp"
#include "nn/models/seq2seq_config.hpp"

namespace mmx::nn {

/// The character ids of a translator (see the file comment).
class TranslationVocab {
 public:
  /// Character i of `chars` gets id kFirstCharId + i.
  explicit TranslationVocab(data::CharTokenizer chars) : chars_(std::move(chars)) {}
  /// The distinct characters of every source and target. Throws when the pairs hold no text.
  static TranslationVocab from_pairs(const std::vector<data::PhrasePair>& pairs);

  /// Seq2SeqConfig::vocab for this vocabulary.
  int64_t size() const { return chars_.vocab_size() + kFirstCharId; }
  /// The characters, without the special ids.
  const data::CharTokenizer& chars() const { return chars_; }

  /// UTF-8 -> ids >= kFirstCharId (no BOS/EOS added); an unknown character is an mmx::Error.
  std::vector<int64_t> encode(std::string_view text) const;
  /// Ids -> UTF-8, stopping at the first kEosId and skipping PAD/BOS.
  std::string decode(const std::vector<int64_t>& ids) const;

 private:
  data::CharTokenizer chars_;
};

/// A teacher-forcing batch, row-major and padded with kPadId:
///   source      batch x source_len   the source characters
///   target_in   batch x target_len   BOS, then the target characters
///   target_out  batch x target_len   the target characters, then EOS
struct Seq2SeqBatch {
  ///@{
  /// row-major ids, laid out as above
  std::vector<int64_t> source, target_in, target_out;
  ///@}
  ///@{
  /// rows and padded lengths
  int64_t batch = 0, source_len = 0, target_len = 0;
  ///@}
};
/// Encodes and pads `pairs` into one teacher-forcing batch.
Seq2SeqBatch make_batch(const TranslationVocab& vocab, const std::vector<data::PhrasePair>& pairs);

}  // namespace mmx::nn
