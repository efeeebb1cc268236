"""gpuprof's start-up hook (placeholder until the adapter lands)."""
