"""Release steps as importable modules: image build/run/push/promote, the local pipeline,
smoke test, dependency locks (``pym image ...``, ``pym pipeline local``, ``pym lock``)."""
