// An empty program. engine/CMakeLists.txt links it once per layer, with that layer's whole
// archive and only the layers below it: an undefined symbol then is a call into a layer above.
int main() {
  return 0;
}
