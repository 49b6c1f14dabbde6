// `mmx translate --ckpt DIR [--beam K] "ein kleines Haus"`: German -> English with a translator
// trained by `mmx train --task mt`, one line per text given; greedy unless --beam K > 1.
#include <cstdio>

#include "cli/command_registry.hpp"
#include "cli/threads.hpp"
#include "nn/tasks/mt/mt_trainer.hpp"

namespace mmx::cli {
namespace {

struct TranslateCommand {
  std::string checkpoint;
  std::vector<std::string> texts;
  int64_t beam = 0;
  int threads = 0;
};

void run_translate(const TranslateCommand& c) {
  apply_threads(c.threads);
  const nn::LoadedTranslator translator = nn::load_translator(c.checkpoint);
  for (const std::string& text : c.texts)
    std::printf("%s\n", nn::translate(translator, text, c.beam).c_str());
}

const bool registered = register_command([](CLI::App& app) {
  auto c = std::make_shared<TranslateCommand>();
  auto* cmd = app.add_subcommand("translate", "Translate German text with a trained mt model");
  cmd->add_option("--ckpt", c->checkpoint, "Checkpoint of `mmx train --task mt`")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--beam", c->beam, "Beam-search width (0 or 1: greedy)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{64}));
  add_threads_option(cmd, c->threads);
  cmd->add_option("texts", c->texts, "German texts, one translation printed per text")->required();
  cmd->callback([c] { run_translate(*c); });
});

}  // namespace
}  // namespace mmx::cli
