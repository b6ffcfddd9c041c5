"""The pure domain of papertrade: instruments, margin math, orders, positions, the engine.

Nothing in this package performs I/O, reads a clock or uses asyncio; time arrives inside the
events. That is what makes a replay reproduce a live session bit for bit.
"""
