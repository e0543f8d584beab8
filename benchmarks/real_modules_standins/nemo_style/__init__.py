"""A trimmed copy of NVIDIA NeMo's audio-to-audio model hierarchy (Apache-2.0, NeMo commit 8cfedd7), standing in for
NeMo in benchmarks/real_modules.py: NeMo itself is too heavy to install there. The logging code (hooks, the
``multi_*_epoch_end`` and ``evaluation_step`` dispatch, every ``self.log``/``self.log_dict`` call) is NeMo's, line
for line; configuration, restoration, data setup and the neural modules are cut or replaced by small stand-ins."""
