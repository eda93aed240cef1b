"""Literature benchmarks: stylised multi-item fulfilment (Jasin & Sinha 2015) replayed
through the engine, each policy's cost compared with the perfect-hindsight bound.

Run ``python -m sim.literature --reps 30`` to regenerate ``docs/literature_benchmark.md``.
"""
