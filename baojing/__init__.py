"""Baojing (报警): internet alarm platform for a 110 police command centre."""
