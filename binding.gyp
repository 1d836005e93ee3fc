{
  "targets": [
    {
      "target_name": "syscage_engine",
      "sources": ["engine/engine.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lunicorn"]
    }
  ]
}
