// The C++ ViT against PyTorch: tests/make_torch_vit_fixture.py builds the same vision
// transformer (36 patches attending to each other, the classifier on the mean token), and this
// test loads its weights by name and matches the classifier logits, the loss and every parameter
// gradient, with and without the attention maps captured, logit MultiMax on and off.
#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/ops.hpp"
#include "nn/models/vit.hpp"
#include "torch_fixture.hpp"

using namespace mmx;
using namespace mmx::nn;

TEST_CASE("ViT matches PyTorch: classifier logits, loss, every gradient") {
  // Order 2 per layer with logit MultiMax; order 1 per head with plain logits.
  for (const std::string name : {"order2_logits", "order1_per_head"}) {
    CAPTURE(name);
    const nlohmann::json fixture = read_torch_fixture("vit_fixture_" + name);
    const ViTConfig config = fixture.at("config").get<ViTConfig>();
    const Tensor images = fixture_tensor(fixture.at("images"));
    const auto labels = fixture.at("labels").get<std::vector<int64_t>>();
    for (const bool capture : {false, true}) {
      CAPTURE(capture);
      ViT model(config, /*seed=*/123);
      load_fixture_weights(model, fixture);
      std::vector<AttentionMap> maps;
      const Tensor logits = model.forward(images, capture ? &maps : nullptr);
      if (capture) CHECK(maps.size() == static_cast<size_t>(config.layers));
      check_close(logits.contiguous().to_vector(), fixture.at("logits"), "logits");
      Tensor loss = cross_entropy(logits, labels);
      CHECK(loss.item() == doctest::Approx(fixture.at("loss").get<double>()).epsilon(1e-5));
      loss.backward();
      check_fixture_gradients(model, fixture);
    }
  }
}
