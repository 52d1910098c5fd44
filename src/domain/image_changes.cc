#include "domain/image_changes.h"

namespace glimmer::domain {

PatchStep ReplaceStep(std::string path, ImageChanges value) {
  PatchStep step;
  step.op = PatchStep::Op::kReplace;
  step.path = std::move(path);
  step.value = std::move(value);
  return step;
}

PatchStep SetPropertyStep(PatchStep::Op op, std::string name, std::string value) {
  PatchStep step;
  step.op = op;
  step.path = name;
  step.value.properties.emplace_back(std::move(name), std::move(value));
  return step;
}

PatchStep RemoveStep(std::string path) {
  PatchStep step;
  step.op = PatchStep::Op::kRemove;
  step.path = std::move(path);
  return step;
}

}  // namespace glimmer::domain
