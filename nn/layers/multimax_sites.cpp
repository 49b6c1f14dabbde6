#include "nn/layers/multimax_sites.hpp"

#include "engine/error.hpp"
#include "engine/io/json_input.hpp"
#include "nn/layers/multimax_parameters.hpp"

namespace mmx::nn {

namespace {
// The rows of a [4] or [H, 4] parameter.
std::vector<std::array<float, 4>> rows_of(const Tensor& p) {
  const std::vector<float> v = p.contiguous().to_vector();
  std::vector<std::array<float, 4>> rows(v.size() / 4);
  for (size_t i = 0; i < v.size(); ++i) rows[i / 4][i % 4] = v[i];
  return rows;
}
}  // namespace

nlohmann::json MultiMaxSiteValues::to_json() const {
  return {{"site", site}, {"order", order}, {"per_head", per_head}, {"t", t}, {"r", r}};
}

MultiMaxSiteValues MultiMaxSiteValues::from_json(const nlohmann::json& j,
                                                 const std::string& label) {
  MultiMaxSiteValues v;
  v.site = io::json_field<std::string>(j, "site", label);
  const std::string where = cat(label, ": site ", v.site);
  v.order = io::json_field<int>(j, "order", where);
  v.per_head = io::json_field<bool>(j, "per_head", where);
  v.t = io::json_field<std::vector<std::array<float, 4>>>(j, "t", where);
  v.r = io::json_field<std::vector<std::array<float, 4>>>(j, "r", where);
  MMX_CHECK(v.order == 1 || v.order == 2, where, ": order must be 1 or 2, got ", v.order);
  MMX_CHECK(!v.t.empty() && v.t.size() == v.r.size(), where, ": t has ", v.t.size(), " rows and r ",
            v.r.size(), "; expected the same number, at least one");
  return v;
}

std::vector<MultiMaxSiteValues> multimax_site_values(const Module& model) {
  std::vector<MultiMaxSiteValues> out;
  for (const auto& [name, module] : model.named_modules())
    if (const auto* m = dynamic_cast<const MultiMaxParameters*>(module))
      out.push_back({.site = name,
                     .order = m->order(),
                     .t = rows_of(m->t()),
                     .r = rows_of(m->r()),
                     .per_head = m->t().dim() == 2});
  return out;
}

}  // namespace mmx::nn
