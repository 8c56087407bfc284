// Emscripten's getenv() sees a fixed environment of its own; under Node, the tests' runs need the
// variables ctest sets (MINIFLOW_ISA, MINIFLOW_NUM_THREADS) and GoogleTest's own (GTEST_*).
// ES5 only: this release's JavaScript optimizer rejects newer syntax.
Module["preRun"] = (Module["preRun"] || []).concat(function () {
  if (typeof process === "undefined") return;
  var names = Object.keys(process.env);
  for (var i = 0; i < names.length; i++) {
    var name = names[i];
    if (name.indexOf("MINIFLOW_") === 0 || name.indexOf("GTEST_") === 0) {
      ENV[name] = process.env[name];
    }
  }
});
