#include "nn/tasks/mt/translation_vocab.hpp"

#include <algorithm>

#include "engine/error.hpp"
#include "nn/data/utf8.hpp"

namespace mmx::nn {

TranslationVocab TranslationVocab::from_pairs(const std::vector<data::PhrasePair>& pairs) {
  std::u32string text;
  for (const data::PhrasePair& pair : pairs) {
    text += data::decode_utf8(pair.source).code_points;
    text += data::decode_utf8(pair.target).code_points;
  }
  MMX_CHECK(!text.empty(), "TranslationVocab: ", pairs.size(), " phrase pairs hold no text");
  return TranslationVocab(data::CharTokenizer::from_text(text));
}

std::vector<int64_t> TranslationVocab::encode(std::string_view text) const {
  std::vector<int64_t> ids = chars_.encode_utf8(text);
  for (int64_t& id : ids) id += kFirstCharId;
  return ids;
}

std::string TranslationVocab::decode(const std::vector<int64_t>& ids) const {
  std::vector<int64_t> chars;
  for (int64_t id : ids) {
    if (id == kEosId) break;
    if (id >= kFirstCharId) chars.push_back(id - kFirstCharId);
  }
  return chars_.decode(chars);
}

Seq2SeqBatch make_batch(const TranslationVocab& vocab, const std::vector<data::PhrasePair>& pairs) {
  MMX_CHECK(!pairs.empty(), "make_batch: no phrase pairs");
  std::vector<std::vector<int64_t>> sources, targets;
  Seq2SeqBatch b;
  b.batch = static_cast<int64_t>(pairs.size());
  for (const data::PhrasePair& pair : pairs) {
    sources.push_back(vocab.encode(pair.source));
    targets.push_back(vocab.encode(pair.target));
    MMX_CHECK(!sources.back().empty(), "make_batch: empty source for target '", pair.target, "'");
    b.source_len = std::max<int64_t>(b.source_len, static_cast<int64_t>(sources.back().size()));
    b.target_len = std::max<int64_t>(b.target_len, static_cast<int64_t>(targets.back().size()) + 1);
  }
  b.source.assign(b.batch * b.source_len, kPadId);
  b.target_in.assign(b.batch * b.target_len, kPadId);
  b.target_out.assign(b.batch * b.target_len, kPadId);
  for (int64_t i = 0; i < b.batch; ++i) {
    std::copy(sources[i].begin(), sources[i].end(), b.source.begin() + i * b.source_len);
    const auto& t = targets[i];
    b.target_in[i * b.target_len] = kBosId;
    std::copy(t.begin(), t.end(), b.target_in.begin() + i * b.target_len + 1);
    std::copy(t.begin(), t.end(), b.target_out.begin() + i * b.target_len);
    b.target_out[i * b.target_len + static_cast<int64_t>(t.size())] = kEosId;
  }
  return b;
}

}  // namespace mmx::nn
