"""Oxidation-state and electronegativity tables shipped with ``constructions.building_blocks.chemistry``.

Data, not code. Sources, exactly:

* ``OXIDATION_STATES``: SMACT (Davies et al., "SMACT: Semiconducting Materials by Analogy and
  Chemical Theory", J. Open Source Softw. 4(38), 1361, 2019), file ``smact/data/oxidation_states_icsd.txt``
  of github.com/WMD-group/SMACT at commit 3d9e5947e74c6025308b6a4b405f0fbae5759159: the oxidation states
  of each element observed in the Inorganic Crystal Structure Database, H (Z = 1) to Es (Z = 99). The
  noble gases He, Ne, Ar have no entry (empty tuple); no element has the state 0. Transcribed verbatim.
* ``PAULING_ELECTRONEGATIVITY``: Pauling electronegativities as tabulated in SMACT's
  ``smact/data/element_data.txt`` (column el_neg; its stated source is the CRC Handbook of Chemistry
  and Physics, 92nd ed., 2011; elements from Am on carry Pauling's recommended 1.3), at commit
  145e6c58ecefbb1acdc772caf5a9333d1ef2eb60, with one correction: SMACT lists Zr as 0.33, a typo for the
  CRC value 1.33, which is used here. Elements with no value there (He, Ne, Ar, Kr, Pm, Eu, Tb, Yb)
  are absent.
"""

from __future__ import annotations

OXIDATION_STATES: dict[str, tuple[int, ...]] = {
    "H": (-1, 1), "He": (), "Li": (1,), "Be": (2,), "B": (-3, -2, -1, 1, 2, 3),
    "C": (-4, -3, -2, -1, 1, 2, 3, 4), "N": (-4, -3, -2, -1, 1, 2, 3, 4, 5), "O": (-2, -1, 1),
    "F": (-1,), "Ne": (), "Na": (-1, 1), "Mg": (2,), "Al": (2, 3), "Si": (-4, -3, -2, -1, 2, 3, 4),
    "P": (-3, -2, -1, 1, 2, 3, 4, 5, 6), "S": (-2, -1, 1, 2, 3, 4, 5, 6, 7),
    "Cl": (-1, 1, 3, 5, 7), "Ar": (), "K": (1,), "Ca": (2,), "Sc": (1, 2, 3), "Ti": (1, 2, 3, 4),
    "V": (2, 3, 4, 5), "Cr": (1, 2, 3, 4, 5, 6), "Mn": (1, 2, 3, 4, 5, 6, 7),
    "Fe": (1, 2, 3, 4, 5, 6), "Co": (-1, 1, 2, 3, 4), "Ni": (1, 2, 3, 4), "Cu": (1, 2, 3, 4),
    "Zn": (2, 4), "Ga": (1, 2, 3, 4), "Ge": (-4, -2, -1, 2, 3, 4), "As": (-3, -2, -1, 2, 3, 4, 5),
    "Se": (-2, -1, 1, 2, 3, 4, 6), "Br": (-1, 1, 3, 5, 7), "Kr": (2,), "Rb": (-1, 1), "Sr": (2,),
    "Y": (1, 2, 3), "Zr": (1, 2, 3, 4), "Nb": (1, 2, 3, 4, 5, 7), "Mo": (1, 2, 3, 4, 5, 6),
    "Tc": (1, 2, 3, 4, 5, 7), "Ru": (1, 2, 3, 4, 5, 6, 7, 8), "Rh": (-1, 1, 2, 3, 4, 5, 6),
    "Pd": (1, 2, 3, 4), "Ag": (1, 2, 3), "Cd": (1, 2), "In": (-1, 1, 2, 3), "Sn": (-4, 2, 3, 4),
    "Sb": (-3, -2, -1, 3, 4, 5), "Te": (-2, -1, 1, 2, 4, 5, 6), "I": (-1, 1, 3, 5, 7),
    "Xe": (2, 4, 6, 8), "Cs": (-1, 1), "Ba": (2,), "La": (1, 2, 3, 4), "Ce": (2, 3, 4),
    "Pr": (2, 3, 4), "Nd": (2, 3, 4), "Pm": (3,), "Sm": (2, 3, 4), "Eu": (2, 3, 4),
    "Gd": (1, 2, 3, 4), "Tb": (1, 2, 3, 4), "Dy": (2, 3, 4), "Ho": (2, 3, 4), "Er": (2, 3, 4),
    "Tm": (2, 3, 4), "Yb": (2, 3, 4), "Lu": (2, 3, 4), "Hf": (2, 3, 4), "Ta": (1, 2, 3, 4, 5),
    "W": (2, 3, 4, 5, 6), "Re": (1, 2, 3, 4, 5, 6, 7), "Os": (1, 2, 3, 4, 5, 6, 7, 8),
    "Ir": (1, 2, 3, 4, 5, 6), "Pt": (-2, 2, 3, 4, 5, 6), "Au": (-1, 1, 2, 3, 5), "Hg": (1, 2),
    "Tl": (-2, -1, 1, 2, 3), "Pb": (-4, 2, 4), "Bi": (-3, 1, 2, 3, 5), "Po": (-2, 2, 4),
    "Ra": (2,), "Ac": (3,), "Th": (2, 3, 4, 6), "Pa": (3, 4, 5), "U": (2, 3, 4, 5, 6),
    "Np": (2, 3, 4, 5, 6, 7), "Pu": (2, 3, 4, 5, 6, 7), "Am": (2, 3, 4, 5), "Cm": (2, 3, 4),
    "Bk": (2, 3, 4), "Cf": (2, 3, 4), "Es": (3,),
}

PAULING_ELECTRONEGATIVITY: dict[str, float] = {
    "H": 2.20, "Li": 0.98, "Be": 1.57, "B": 2.04, "C": 2.55, "N": 3.04, "O": 3.44, "F": 3.98,
    "Na": 0.93, "Mg": 1.31, "Al": 1.61, "Si": 1.90, "P": 2.19, "S": 2.58, "Cl": 3.16, "K": 0.82,
    "Ca": 1.00, "Sc": 1.36, "Ti": 1.54, "V": 1.63, "Cr": 1.66, "Mn": 1.55, "Fe": 1.83, "Co": 1.88,
    "Ni": 1.91, "Cu": 1.90, "Zn": 1.65, "Ga": 1.81, "Ge": 2.01, "As": 2.18, "Se": 2.55, "Br": 2.96,
    "Rb": 0.82, "Sr": 0.95, "Y": 1.22, "Zr": 1.33, "Nb": 1.6, "Mo": 2.16, "Tc": 2.10, "Ru": 2.2,
    "Rh": 2.28, "Pd": 2.20, "Ag": 1.93, "Cd": 1.69, "In": 1.78, "Sn": 1.96, "Sb": 2.05, "Te": 2.1,
    "I": 2.66, "Xe": 2.60, "Cs": 0.79, "Ba": 0.89, "La": 1.10, "Ce": 1.12, "Pr": 1.13, "Nd": 1.14,
    "Sm": 1.17, "Gd": 1.20, "Dy": 1.22, "Ho": 1.23, "Er": 1.24, "Tm": 1.25, "Lu": 1.0, "Hf": 1.3,
    "Ta": 1.5, "W": 1.7, "Re": 1.9, "Os": 2.2, "Ir": 2.2, "Pt": 2.2, "Au": 2.4, "Hg": 1.9,
    "Tl": 1.8, "Pb": 1.8, "Bi": 1.9, "Po": 2.0, "Ra": 0.9, "Ac": 1.1, "Th": 1.3, "Pa": 1.5,
    "U": 1.7, "Np": 1.3, "Pu": 1.3, "Am": 1.3, "Cm": 1.3, "Bk": 1.3, "Cf": 1.3, "Es": 1.3,
}
