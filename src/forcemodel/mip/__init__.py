"""Solver plumbing shared by every optimising domain (reinforcement, assistance, capability).

HiGHS runs, sparse linear terms, MIP starts and the errors that explain a failed solve live
here, below the domains, so that importing one domain does not load another's engine.
"""
