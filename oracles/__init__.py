"""Independent reference implementations that tests and benchmarks both import.

They share no code with the engines they check (own network, networkx shortest paths, a
plain-Python planner, a SimPy event-by-event run, a Pyomo model written as a competent user
would): an oracle for the tests and a baseline for the benchmarks' ratios.
"""
