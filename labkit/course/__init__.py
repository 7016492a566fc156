"""The course: what the notebooks use beside the migration library (``from labkit import lab``).

Generated tables (``data``), the in-memory traffic simulator (``traffic``) and the real-database workload
(``workload``) with their ledger of writes (``ledger``), scenarios on a real database (``scenarios``), observers
(``observe``), pandas views (``views``), plots (``plots``), widgets (``widgets``), the exercises' self-checks
(``exercises``), and ``lab``, the namespace a notebook imports. ``import labkit`` loads none of it (pandas,
matplotlib and ipywidgets stay out of the library); ``from labkit import lab`` (or ``plots``, ``views`` ...) loads
the module asked for. The course imports the library; the library never imports the course.
"""
