"""Maps the top-level folders onto the ``vntrace`` namespace (see shared/DESIGN.md).

``node/`` installs as ``vntrace.node`` and so on, for editable and normal installs
alike; subpackages are discovered so a new one cannot be forgotten. No top-level
``node``, ``api`` or ``client`` package is ever installed.
"""

from setuptools import Extension, find_packages, setup

FOLDERS = {
    "vntrace.node": "node",
    "vntrace.api": "api",
    "vntrace.client": "client",
    "vntrace.contracts": "contracts",
}

packages = []
for name, folder in FOLDERS.items():
    packages.append(name)
    packages.extend(f"{name}.{sub}" for sub in find_packages(folder))

# Optional C accelerator for the Merkle hot paths; the pure-Python engine is used
# wherever it does not build (no compiler), with identical results.
accel = Extension(
    "vntrace.node.merkle._accel",
    sources=["node/merkle/_accel.c"],
    extra_compile_args=["-O3"],
    optional=True,
)

setup(package_dir=FOLDERS, packages=packages, ext_modules=[accel])
