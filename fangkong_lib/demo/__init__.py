"""The synthetic demo township (城郊乡), generated from a seed.
Names, people and boundaries are invented and labelled as synthetic; region
codes and the county-seat coordinate are real.
"""

from .township import build_demo, generate

__all__ = ["build_demo", "generate"]
