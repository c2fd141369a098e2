"""Meeting attendance as data managers receive it: Microsoft Teams attendance reports (both layouts),
Zoom participant exports and workshop sign-in sheets, read into one shape — one row per time a
person was in a meeting — so that matching them to the network's participants and counting who
attended is written once, whatever tool the meeting ran on.
"""
