"""The registry: regions, households, persons and the facts about them.

Core knows nothing about GraphQL, HTTP or any particular plugin.
"""
