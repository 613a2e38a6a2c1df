"""The special functions of ``torch.special`` that the rest of the package lacks: the scaled and
unscaled Bessel functions (i0e, i1e, K0, K1 and their scaled forms, J0, J1, Y0, Y1, the
spherical j0), Airy's Ai, erfcx, log Φ, Φ⁻¹ (ndtri), the entropy term -x log x, Hurwitz's
zeta, and the classical orthogonal polynomials of integer degree.

Each ``*_array`` function takes and returns arrays (computed in float64 from Cephes'
approximations, the ones PyTorch runs, then rounded to the input's dtype); each op with a
derivative is a ``Function`` whose docstring gives the forward formula and the VJP. The
derivative of a Bessel function is written with the Bessel ops themselves (``_of``), so
``create_graph=True`` differentiates it again. PyTorch's J0, J1, Y0, Y1, K0, K1 (and scaled),
spherical j0 have no gradient; here they have their true derivatives. Airy's Ai and the
polynomials have none, as there (their results need no gradient).

Edges (NaN, ±inf, the poles) are PyTorch's, by test.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Function, Tensor
from .elementwise import (
    _I0_A,
    _I0_B,
    _I1_A,
    _I1_B,
    _QUIET,
    _chbevl,
    bessel_i_array,
    erfc_array,
)
from .elementwise2 import hurwitz_zeta_array

_TWO_OVER_PI = 2 / math.pi
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_PI = 1 / math.sqrt(math.pi)


def _polevl(x: Any, coefficients: list[float]) -> Any:
    """Σ c_k x^(N-k), the highest power first (Cephes' polevl), by Horner's rule."""
    y = x * 0 + coefficients[0]
    for c in coefficients[1:]:
        y = y * x + c
    return y


def _f64(x: Any) -> Any:
    return x.astype(np.float64, copy=False)


def _back(y: Any, x: Any) -> Any:
    """y (float64) in x's floating dtype."""
    return y.astype(x.dtype, copy=False)


# ---- the modified Bessel functions --------------------------------------------------------

# Cephes' Chebyshev coefficients for K0 and K1: (K0(x) + log(x/2) I0(x)) on [0, 2] in x² - 2,
# exp(x) √x K0(x) on (2, inf) in 8/x - 2; the same for K1 (x K1 - x log(x/2) I1 on [0, 2])
_K0_A = [1.37446543561352307156e-16, 4.25981614279661018399e-14, 1.03496952576338420167e-11,
         1.90451637722020886025e-09, 2.53479107902614945675e-07, 2.28621210311945178607e-05,
         1.26461541144692592338e-03, 3.59799365153615016266e-02, 3.44289899924628486886e-01,
         -5.35327393233902768720e-01]
_K0_B = [5.30043377268626276149e-18, -1.64758043015242134646e-17, 5.21039150503902756861e-17,
         -1.67823109680541210385e-16, 5.51205597852431940784e-16, -1.84859337734377901440e-15,
         6.34007647740507060557e-15, -2.22751332699166985548e-14, 8.03289077536357521100e-14,
         -2.98009692317273043925e-13, 1.14034058820847496303e-12, -4.51459788337394416547e-12,
         1.85594911495471785253e-11, -7.95748924447710747776e-11, 3.57739728140030116597e-10,
         -1.69753450938905987466e-09, 8.57403401741422608519e-09, -4.66048989768794782956e-08,
         2.76681363944501510342e-07, -1.83175552271911948767e-06, 1.39498137188764993662e-05,
         -1.28495495816278026384e-04, 1.56988388573005337491e-03, -3.14481013119645005427e-02,
         2.44030308206595545468e+00]
_K1_A = [-7.02386347938628759343e-18, -2.42744985051936593393e-15, -6.66690169419932900609e-13,
         -1.41148839263352776110e-10, -2.21338763073472585583e-08, -2.43340614156596823496e-06,
         -1.73028895751305206302e-04, -6.97572385963986435018e-03, -1.22611180822657148235e-01,
         -3.53155960776544875667e-01, 1.52530022733894777053e+00]
_K1_B = [-5.75674448366501715755e-18, 1.79405087314755922667e-17, -5.68946255844285935196e-17,
         1.83809354436663880070e-16, -6.05704724837331885336e-16, 2.03870316562433424052e-15,
         -7.01983709041831346144e-15, 2.47715442448130437068e-14, -8.97670518232499435011e-14,
         3.34841966607842919884e-13, -1.28917396095102890680e-12, 5.13963967348173025100e-12,
         -2.12996783842756842877e-11, 9.21831518760500529508e-11, -4.19035475934189648750e-10,
         2.01504975519703286596e-09, -1.03457624656780970260e-08, 5.74108412545004946722e-08,
         -3.50196060308781257119e-07, 2.40648494783721712015e-06, -1.93619797416608296024e-05,
         1.95215518471351631108e-04, -2.85781685962277938680e-03, 1.03923736576817238437e-01,
         2.72062619048444266945e+00]


def i0e_array(xp: Any, x: Any) -> Any:
    """exp(-|x|) I0(x): Cephes' Chebyshev series in |x|/2 - 2 up to |x| = 8, and
    (its series in 32/|x| - 2) / √|x| beyond (no exp: finite for every finite x; 0 at ±inf)."""
    a = xp.abs(_f64(x))
    small = a <= 8
    big = xp.where(small, 8.0, a)
    with np.errstate(**_QUIET):
        y = xp.where(small, _chbevl(a * 0.5 - 2, _I0_A), _chbevl(32 / big - 2, _I0_B) /
                     xp.sqrt(big))
    return _back(y, x)


def i1e_array(xp: Any, x: Any) -> Any:
    """exp(-|x|) I1(x), odd: |x| (a Chebyshev series in |x|/2 - 2) up to 8, (one in
    32/|x| - 2) / √|x| beyond."""
    x64 = _f64(x)
    a = xp.abs(x64)
    small = a <= 8
    big = xp.where(small, 8.0, a)
    with np.errstate(**_QUIET):
        y = xp.where(small, _chbevl(a * 0.5 - 2, _I1_A) * a, _chbevl(32 / big - 2, _I1_B) /
                     xp.sqrt(big))
    return _back(xp.where(x64 < 0, -y, y), x)


def _k_array(xp: Any, x: Any, order: int, scaled: bool) -> Any:
    """K0 or K1 (times e^x if ``scaled``): on (0, 2] K0 = chbevl(x² - 2, A) - log(x/2) I0(x),
    K1 = log(x/2) I1(x) + chbevl(x² - 2, A) / x; beyond, e^-x chbevl(8/x - 2, B) / √x. inf at
    0, NaN below, 0 at inf."""
    x64 = _f64(x)
    small = x64 <= 2
    near = xp.where(small & (x64 > 0), x64, 1.0)
    far = xp.where(small, 4.0, x64)
    with np.errstate(**_QUIET):
        if order == 0:
            inner = _chbevl(near * near - 2, _K0_A) - xp.log(0.5 * near) * \
                bessel_i_array(xp, near, 0)
            outer = _chbevl(8 / far - 2, _K0_B) / xp.sqrt(far)
        else:
            inner = xp.log(0.5 * near) * bessel_i_array(xp, near, 1) + \
                _chbevl(near * near - 2, _K1_A) / near
            outer = _chbevl(8 / far - 2, _K1_B) / xp.sqrt(far)
        inner = inner * xp.exp(near) if scaled else inner
        outer = outer if scaled else outer * xp.exp(-far)
    y = xp.where(small, inner, outer)
    y = xp.where(x64 == 0, math.inf, xp.where(x64 < 0, math.nan, y))
    return _back(y, x)


def k0_array(xp: Any, x: Any) -> Any:
    return _k_array(xp, x, 0, False)


def k1_array(xp: Any, x: Any) -> Any:
    return _k_array(xp, x, 1, False)


def k0e_array(xp: Any, x: Any) -> Any:
    return _k_array(xp, x, 0, True)


def k1e_array(xp: Any, x: Any) -> Any:
    return _k_array(xp, x, 1, True)


# ---- the Bessel functions of the first and second kind --------------------------------------

# Cephes' j0.c and j1.c: rational functions in x² on [0, 5] (with the first two zeros of J
# factored out), and Hankel's asymptotic form beyond, P cos(x - φ) - (5/x) Q sin(x - φ) with P
# and Q rational in 25/x²
_J0_PP = [7.96936729297347051624e-04, 8.28352392107440799803e-02, 1.23953371646414299388e+00,
          5.44725003058768775090e+00, 8.74716500199817011941e+00, 5.30324038235394892183e+00,
          9.99999999999999997821e-01]
_J0_PQ = [9.24408810558863637013e-04, 8.56288474354474431428e-02, 1.25352743901058953537e+00,
          5.47097740330417105182e+00, 8.76190883237069594232e+00, 5.30605288235394617618e+00,
          1.00000000000000000218e+00]
_J0_QP = [-1.13663838898469149931e-02, -1.28252718670509318512e+00, -1.95539544257735972385e+01,
          -9.32060152123768231369e+01, -1.77681167980488050595e+02,
          -1.47077505154951170175e+02, -5.14105326766599330220e+01,
          -6.05014350600728481186e+00]
_J0_QQ = [1.0, 6.43178256118178023184e+01, 8.56430025976980587198e+02,
          3.88240183605401609683e+03, 7.24046774195652478189e+03, 5.93072701187316984827e+03,
          2.06209331660327847417e+03, 2.42005740240291393179e+02]
_J0_RP = [-4.79443220978201773821e+09, 1.95617491946556577543e+12, -2.49248344360967716204e+14,
          9.70862251047306323952e+15]
_J0_RQ = [1.0, 4.99563147152651017219e+02, 1.73785401676374683123e+05,
          4.84409658339962045305e+07, 1.11855537045356834862e+10, 2.11277520115489217587e+12,
          3.10518229857422583814e+14, 3.18121955943204943306e+16, 1.71086294081043136091e+18]
_J0_Z1, _J0_Z2 = 5.78318596294678452118e+00, 3.04712623436620863991e+01
_Y0_YP = [1.55924367855235737965e+04, -1.46639295903971606143e+07, 5.43526477051876500413e+09,
          -9.82136065717911466409e+11, 8.75906394395366999549e+13, -3.46628303384729719441e+15,
          4.42733268572569800351e+16, -1.84950800436986690637e+16]
_Y0_YQ = [1.0, 1.04128353664259848412e+03, 6.26107330137134956842e+05,
          2.68919633393814121987e+08, 8.64002487103935000337e+10, 2.02979612750105546709e+13,
          3.17157752842975028269e+15, 2.50596256172653059228e+17]
_J1_PP = [7.62125616208173112003e-04, 7.31397056940917570436e-02, 1.12719608129684925192e+00,
          5.11207951146807644818e+00, 8.42404590141772420927e+00, 5.21451598682361504063e+00,
          1.00000000000000000254e+00]
_J1_PQ = [5.71323128072548699714e-04, 6.88455908754495404082e-02, 1.10514232634061696926e+00,
          5.07386386128601488557e+00, 8.39985554327604159757e+00, 5.20982848682361821619e+00,
          9.99999999999999997461e-01]
_J1_QP = [5.10862594750176621635e-02, 4.98213872951233449420e+00, 7.58238284132545283818e+01,
          3.66779609360150777800e+02, 7.10856304998926107277e+02, 5.97489612400613639965e+02,
          2.11688757100572135698e+02, 2.52070205858023719784e+01]
_J1_QQ = [1.0, 7.42373277035675149943e+01, 1.05644886038262816351e+03,
          4.98641058337653607651e+03, 9.56231892404756170795e+03, 7.99704160447350683650e+03,
          2.82619278517639096600e+03, 3.36093607810698293419e+02]
_J1_RP = [-8.99971225705559398224e+08, 4.52228297998194034323e+11, -7.27494245221818276015e+13,
          3.68295732863852883286e+15]
_J1_RQ = [1.0, 6.20836478118054335476e+02, 2.56987256757748830383e+05,
          8.35146791431949253037e+07, 2.21511595479792499675e+10, 4.74914122079991414898e+12,
          7.84369607876235854894e+14, 8.95222336184627338078e+16, 5.32278620332680085395e+18]
_J1_Z1, _J1_Z2 = 1.46819706421238932572e+01, 4.92184563216946036703e+01
_Y1_YP = [1.26320474790178026440e+09, -6.47355876379160291031e+11, 1.14509511541823727583e+14,
          -8.12770255501325109621e+15, 2.02439475713594898196e+17, -7.78877196265950026825e+17]
_Y1_YQ = [1.0, 5.94301592346128195359e+02, 2.35564092943068577943e+05,
          7.34811944459721705660e+07, 1.87601316108706159478e+10, 3.88231277496238566008e+12,
          6.20557727146953693363e+14, 6.87141087355300489866e+16, 3.97270608116560655612e+18]


def _hankel(xp: Any, x: Any, order: int, second_kind: bool) -> Any:
    """Hankel's asymptotic form for x > 5: √(2/(πx)) (P cos θ - (5/x) Q sin θ) for J (sin and
    +cos for Y), θ = x - π/4 (order 0) or x - 3π/4 (order 1). NaN at inf, as PyTorch's."""
    pp, pq, qp, qq = (_J0_PP, _J0_PQ, _J0_QP, _J0_QQ) if order == 0 else \
        (_J1_PP, _J1_PQ, _J1_QP, _J1_QQ)
    w = 25 / (x * x)
    p = _polevl(w, pp) / _polevl(w, pq)
    q = _polevl(w, qp) / _polevl(w, qq)
    theta = x - (0.25 if order == 0 else 0.75) * math.pi
    if second_kind:
        y = p * xp.sin(theta) + 5 / x * q * xp.cos(theta)
    else:
        y = p * xp.cos(theta) - 5 / x * q * xp.sin(theta)
    return y * _SQRT_2_OVER_PI / xp.sqrt(x)


def _j0_f64(xp: Any, x: Any) -> Any:
    a = xp.abs(x)
    small = a <= 5
    near = xp.where(small, a, 1.0)
    far = xp.where(small, 6.0, a)
    z = near * near
    with np.errstate(**_QUIET):
        inner = (z - _J0_Z1) * (z - _J0_Z2) * _polevl(z, _J0_RP) / _polevl(z, _J0_RQ)
        inner = xp.where(a < 1e-5, 1 - a * a / 4, inner)
        return xp.where(small, inner, _hankel(xp, far, 0, False))


def _j1_f64(xp: Any, x: Any) -> Any:
    a = xp.abs(x)
    small = a <= 5
    near = xp.where(small, a, 1.0)
    far = xp.where(small, 6.0, a)
    z = near * near
    with np.errstate(**_QUIET):
        inner = _polevl(z, _J1_RP) / _polevl(z, _J1_RQ) * near * (z - _J1_Z1) * (z - _J1_Z2)
        y = xp.where(small, inner, _hankel(xp, far, 1, False))
    return xp.where(x < 0, -y, y)


def bessel_j0_array(xp: Any, x: Any) -> Any:
    """J0(x) (Cephes' j0): even; (x² - z1)(x² - z2) R(x²) up to |x| = 5 (1 - x²/4 below
    1e-5), Hankel's asymptotic form beyond; NaN at ±inf."""
    return _back(_j0_f64(xp, _f64(x)), x)


def bessel_j1_array(xp: Any, x: Any) -> Any:
    """J1(x) (Cephes' j1): odd; x (x² - z1)(x² - z2) R(x²) up to |x| = 5, Hankel's form
    beyond."""
    return _back(_j1_f64(xp, _f64(x)), x)


def bessel_y0_array(xp: Any, x: Any) -> Any:
    """Y0(x) (Cephes' y0): R(x²) + (2/π) log(x) J0(x) on (0, 5], Hankel's form beyond; -inf
    at 0, NaN below."""
    x64 = _f64(x)
    small = x64 <= 5
    near = xp.where(small & (x64 > 0), x64, 1.0)
    far = xp.where(small, 6.0, x64)
    z = near * near
    with np.errstate(**_QUIET):
        inner = _polevl(z, _Y0_YP) / _polevl(z, _Y0_YQ) + \
            _TWO_OVER_PI * xp.log(near) * _j0_f64(xp, near)
        y = xp.where(small, inner, _hankel(xp, far, 0, True))
    y = xp.where(x64 == 0, -math.inf, xp.where(x64 < 0, math.nan, y))
    return _back(y, x)


def bessel_y1_array(xp: Any, x: Any) -> Any:
    """Y1(x) (Cephes' y1): x R(x²) + (2/π)(J1(x) log x - 1/x) on (0, 5], Hankel's form
    beyond; -inf at 0, NaN below."""
    x64 = _f64(x)
    small = x64 <= 5
    near = xp.where(small & (x64 > 0), x64, 1.0)
    far = xp.where(small, 6.0, x64)
    z = near * near
    with np.errstate(**_QUIET):
        inner = near * (_polevl(z, _Y1_YP) / _polevl(z, _Y1_YQ)) + \
            _TWO_OVER_PI * (_j1_f64(xp, near) * xp.log(near) - 1 / near)
        y = xp.where(small, inner, _hankel(xp, far, 1, True))
    y = xp.where(x64 == 0, -math.inf, xp.where(x64 < 0, math.nan, y))
    return _back(y, x)


_SJ0_SERIES = [1 / 6227020800.0, -1 / 39916800.0, 1 / 362880.0, -1 / 5040.0, 1 / 120.0,
               -1 / 6.0, 1.0]


def spherical_bessel_j0_array(xp: Any, x: Any) -> Any:
    """j0(x) = sin(x) / x, by its Taylor series in x² below |x| = 0.5; 0 at ±inf."""
    x64 = _f64(x)
    small = xp.abs(x64) < 0.5
    safe = xp.where(small | xp.isinf(x64), 1.0, x64)
    with np.errstate(**_QUIET):
        y = xp.where(small, _polevl(x64 * x64, _SJ0_SERIES), xp.sin(safe) / safe)
    return _back(xp.where(xp.isinf(x64), 0.0, y), x)


def spherical_bessel_j0_slope_array(xp: Any, x: Any) -> Any:
    """j0'(x) = (cos x - j0(x)) / x, by its Taylor series below |x| = 0.5 (no cancellation);
    0 at ±inf."""
    x64 = _f64(x)
    small = xp.abs(x64) < 0.5
    safe = xp.where(small | xp.isinf(x64), 1.0, x64)
    z = x64 * x64
    # d/dx Σ c_k x^2k = x Σ 2k c_k x^(2k-2)
    series = [2 * k * c for k, c in zip(range(6, 0, -1), _SJ0_SERIES[:-1])]
    with np.errstate(**_QUIET):
        far = (xp.cos(safe) - xp.sin(safe) / safe) / safe
        y = xp.where(small, x64 * _polevl(z, series), far)
    return _back(xp.where(xp.isinf(x64), 0.0, y), x)


# ---- Airy's Ai ------------------------------------------------------------------------------

_AI_AN = [3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01,
          1.68089224934630576269e+02, 1.59756391350164413639e+02, 7.05360906840444183113e+01,
          1.40264691163389668864e+01, 9.99999999999999995305e-01]
_AI_AD = [5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01,
          1.77318088145400459522e+02, 1.64234692871529701831e+02, 7.14778400825575695274e+01,
          1.40959135607834029598e+01, 1.00000000000000000470e+00]
_AI_AFN = [-1.31696323418331795333e-01, -6.26456544431912369773e-01, -6.93158036036933542233e-01,
           -2.79779981545119124951e-01, -4.91900132609500318020e-02,
           -4.06265923594885404393e-03, -1.59276496239262096340e-04,
           -2.77649108155232920844e-06, -1.67787698489114633780e-08]
_AI_AFD = [1.0, 1.33560420706553243746e+01, 3.26825032795224613948e+01,
           2.67367040941499554804e+01, 9.18707402907259625840e+00, 1.47529146771666414581e+00,
           1.15687173795188044134e-01, 4.40291641615211203805e-03, 7.54720348287414296618e-05,
           4.51850092970580378464e-07]
_AI_AGN = [1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00,
           9.39169229816650230044e-01, 3.51465656105547619242e-01, 6.33888919628925490927e-02,
           5.85804113048388458567e-03, 2.82851600836737019778e-04, 6.98793669997260967291e-06,
           8.11789239554389293311e-08, 3.41551784765923618484e-10]
_AI_AGD = [1.0, 9.30892908077441974853e+00, 1.98352928718312140417e+01,
           1.55646628932864612953e+01, 5.47686069422975497931e+00, 9.54293611618961883998e-01,
           8.64580826352392193095e-02, 4.12656523824222607191e-03, 1.01259085116509135510e-04,
           1.17166733214413521882e-06, 4.91834570062930015649e-09]
_AI_C1, _AI_C2 = 0.355028053887817239260, 0.258819403792806798405


def airy_ai_array(xp: Any, x: Any) -> Any:
    """Ai(x) (Cephes' airy): below -2.09 the oscillating asymptotic form π^-½ |x|^-¼
    (sin(t)(1 + z² F(z²)) - cos(t) z G(z²)), t = ζ + π/4, z = 1/ζ, ζ = ⅔|x|^(3/2); from 2.09
    on π^-½ R(1/ζ) / (2 x^¼ e^ζ) (0 past 103.892); between, the Maclaurin series
    c1 f(x) - c2 g(x) (f, g summed in lockstep until every term is below float64's epsilon).
    NaN at ±inf, as PyTorch's."""
    x64 = _f64(x)
    neg = x64 < -2.09
    pos = x64 >= 2.09
    mid = ~neg & ~pos & ~xp.isnan(x64)
    with np.errstate(**_QUIET):
        xn = xp.where(neg, x64, -4.0)
        zeta = -2.0 * xn * xp.sqrt(-xn) / 3.0
        z = 1.0 / zeta
        zz = z * z
        t = zeta + 0.25 * math.pi
        y_neg = _INV_SQRT_PI / xp.sqrt(xp.sqrt(-xn)) * (
            xp.sin(t) * (1.0 + zz * _polevl(zz, _AI_AFN) / _polevl(zz, _AI_AFD))
            - xp.cos(t) * (z * _polevl(zz, _AI_AGN) / _polevl(zz, _AI_AGD)))
        xq = xp.where(pos, x64, 4.0)
        zeta = 2.0 * xq * xp.sqrt(xq) / 3.0
        y_pos = _INV_SQRT_PI * (_polevl(1 / zeta, _AI_AN) / _polevl(1 / zeta, _AI_AD)) / \
            (2.0 * xp.sqrt(xp.sqrt(xq)) * xp.exp(zeta))
        y_pos = xp.where(xq > 103.892, 0.0, y_pos)
    xm = xp.where(mid, x64, 0.0)
    f, g = xp.ones(xm.shape), xm * 1.0
    m, n, k = xp.ones(xm.shape), xm * 1.0, 1.0
    cube = xm * xm * xm
    for _ in range(200):
        m = m * cube
        k += 1.0
        m = m / k
        n = n * cube
        k += 1.0
        n = n / k
        m = m / k
        f = f + m
        k += 1.0
        n = n / k
        g = g + n
        if not bool(xp.any(xp.abs(m / f) > np.finfo(np.float64).eps)):
            break
    y_mid = _AI_C1 * f - _AI_C2 * g
    y = xp.where(neg, y_neg, xp.where(pos, y_pos, y_mid))
    y = xp.where(xp.isnan(x64) | xp.isinf(x64), math.nan, y)
    return _back(y, x)


# ---- erfcx, log Φ, Φ⁻¹ ----------------------------------------------------------------------

_ERFCX_DEPTH = 100  # erfc's continued fraction from z = 1 on (``erfc_array``'s depth)


def _square_parts(xp: Any, x: Any) -> tuple[Any, Any]:
    """x² = hi + lo exactly (Dekker's split of x into 26-bit halves)."""
    c = x * 134217729.0  # 2^27 + 1
    high = c - (c - x)
    low = x - high
    hi = x * x
    lo = ((high * high - hi) + 2 * high * low) + low * low
    return hi, lo


def _erfcx_nonneg(xp: Any, z: Any) -> Any:
    """erfcx(z) for z >= 0 in float64: exp(z²) erfc(z) below 1 (both factors accurate there),
    then erfc's continued fraction without its exp(-z²): 2/√π z / (2z² + 1 - 1·2/(2z² + 5 -
    3·4/(...))), 100 levels; 1/(√π z) past 1e8 (where 2z² + ... is 2z² to the last bit)."""
    near = xp.minimum(z, 1.0)
    with np.errstate(**_QUIET):
        y_near = xp.exp(near * near) * erfc_array(xp, near)
        w = xp.clip(z, 1.0, 1e8)
        t2 = 2 * w * w
        d = t2 + (4 * _ERFCX_DEPTH + 1)
        for k in range(_ERFCX_DEPTH, 0, -1):
            d = t2 + (4 * k - 3) - (2 * k - 1) * (2 * k) / d
        y_far = 2 * _INV_SQRT_PI * w / d
        y_huge = _INV_SQRT_PI / z
    return xp.where(z < 1, y_near, xp.where(z > 1e8, y_huge, y_far))


def erfcx_array(xp: Any, x: Any) -> Any:
    """erfcx(x) = exp(x²) erfc(x), without overflow for large x (``_erfcx_nonneg``); for
    x < 0, 2 exp(x²) - erfcx(-x), exp(x²) as exp(hi) (1 + lo) from x² = hi + lo exactly (so
    good to float64's last bits, where exp(x * x) loses |x|² ulps); inf below -26.7."""
    x64 = _f64(x)
    a = xp.abs(x64)
    pos = _erfcx_nonneg(xp, xp.where(xp.isnan(a), 0.0, a))
    with np.errstate(**_QUIET):
        m = xp.minimum(a, 26.7)
        hi, lo = _square_parts(xp, m)
        grown = 2 * xp.exp(hi) * (1 + lo)
        neg = xp.where(x64 < -26.7, math.inf, grown - pos)
    y = xp.where(x64 >= 0, pos, neg)
    return _back(xp.where(xp.isnan(x64), math.nan, y), x)


def log_ndtr_array(xp: Any, x: Any) -> Any:
    """log Φ(x), Φ the standard normal CDF: log(erfcx(-t) / 2) - t² below x = -1 (t = x/√2;
    no underflow however far out), log1p(-erfc(t) / 2) from -1 on (as PyTorch and SciPy),
    erfc(t) as erfcx(t) e^(-x²/2) past t = 1; x²/2 exactly (``_square_parts``) both ways,
    not t² of a rounded t (which loses x² ulps in the right tail, as PyTorch's does)."""
    x64 = _f64(x)
    t = x64 * math.sqrt(0.5)
    left = x64 < -1
    with np.errstate(**_QUIET):
        tl = xp.where(left, t, -1.0)
        hl, ll = _square_parts(xp, xp.where(left, x64, -1.0))
        y_left = xp.log(erfcx_array(xp, -tl) / 2) - 0.5 * hl - 0.5 * ll
        tr = xp.where(left, 0.0, t)
        # erfc(t) = erfcx(t) e^(-x²/2) with x² = hi + lo exactly (not t², t = x/√2 rounded):
        # no x² ulps lost in the tail
        hi, lo = _square_parts(xp, xp.where(left, 0.0, xp.minimum(x64, 60.0)))
        tail = erfcx_array(xp, tr) * xp.exp(-0.5 * hi) * (1 - 0.5 * lo)
        y_right = xp.log1p(-xp.where(tr > 1, tail, erfc_array(xp, tr)) / 2)
    y = xp.where(left, y_left, y_right)
    return _back(xp.where(x64 == -math.inf, -math.inf, y), x)


# Cephes' ndtri: a rational function of y - 1/2 for |y - 1/2| <= 3/8 (… 0.5 ± 0.3647), then
# x0 - z R(z) in z = 1/√(-2 log y) on the two ranges of √(-2 log y) [2, 8) and [8, 64)
_NDTRI_P0 = [-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1,
             1.39312609387279679503E1, -1.23916583867381258016E0]
_NDTRI_Q0 = [1.0, 1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1,
             -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
             1.59056225126211695515E1, -1.18331621121330003142E0]
_NDTRI_P1 = [4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1,
             4.40805073893200834700E1, 1.46849561928858024014E1, 2.18663306850790267539E0,
             -1.40256079171354495875E-1, -3.50424626827848203418E-2,
             -8.57456785154685413611E-4]
_NDTRI_Q1 = [1.0, 1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1,
             1.50425385692907503408E1, 2.50464946208309415979E0, -1.42182922854787788574E-1,
             -3.80806407691578277194E-2, -9.33259480895457427372E-4]
_NDTRI_P2 = [3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
             1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
             3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9]
_NDTRI_Q2 = [1.0, 6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
             2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
             2.89247864745380683936E-6, 6.79019408009981274425E-9]
_EXP_MINUS_2 = 0.13533528323661269189


def ndtri_array(xp: Any, p: Any) -> Any:
    """Φ⁻¹(p), the standard normal quantile (Cephes' ndtri, as PyTorch's): exact from p
    itself in both tails (no 2p - 1 rounding); -inf at 0, inf at 1, NaN outside [0, 1]."""
    p64 = _f64(p)
    upper = p64 > 1 - _EXP_MINUS_2
    y = xp.where(upper, 1 - p64, p64)
    central = y > _EXP_MINUS_2
    with np.errstate(**_QUIET):
        c = xp.where(central, y, 0.5) - 0.5
        c2 = c * c
        x_central = (c + c * (c2 * _polevl(c2, _NDTRI_P0) / _polevl(c2, _NDTRI_Q0))) * \
            math.sqrt(2 * math.pi)
        yt = xp.where(central | (y <= 0), 0.1, y)
        s = xp.sqrt(-2.0 * xp.log(yt))
        x0 = s - xp.log(s) / s
        z = 1 / s
        x1 = xp.where(s < 8, z * _polevl(z, _NDTRI_P1) / _polevl(z, _NDTRI_Q1),
                      z * _polevl(z, _NDTRI_P2) / _polevl(z, _NDTRI_Q2))
        x_tail = x0 - x1
        x_tail = xp.where(upper, x_tail, -x_tail)
    out = xp.where(central, x_central, x_tail)
    out = xp.where(p64 == 0, -math.inf, xp.where(p64 == 1, math.inf, out))
    out = xp.where((p64 < 0) | (p64 > 1) | xp.isnan(p64), math.nan, out)
    return _back(out, p)


# ---- Hurwitz's zeta -------------------------------------------------------------------------


def zeta_array(xp: Any, x: Any, q: Any) -> Any:
    """ζ(x, q) = Σ_{k>=0} (q + k)^-x elementwise over arrays that broadcast, as PyTorch's
    (Cephes' zeta, ``hurwitz_zeta_array``): inf at x = 1, NaN below; inf at q a non-positive
    integer; NaN at q <= 0 for a non-integer x."""
    x64, q64 = xp.broadcast_arrays(_f64(x), _f64(q))
    with np.errstate(**_QUIET):
        y = hurwitz_zeta_array(xp, x64, q64) if x64.size else x64 * 1.0
        pole = (q64 <= 0) & (q64 == xp.floor(q64))
        y = xp.where((q64 <= 0) & (x64 != xp.floor(x64)), math.nan, y)
        y = xp.where(pole, math.inf, y)
        y = xp.where(x64 < 1, math.nan, xp.where(x64 == 1, math.inf, y))
    return y.astype(np.result_type(x.dtype, q.dtype), copy=False)


# ---- the ops -------------------------------------------------------------------------------


def _of(op: type[Function], xp: Any, x: Any) -> Any:
    """op(x): the op itself on a Tensor (recording a backward with ``create_graph=True``),
    its array function on an array."""
    if isinstance(x, Tensor):
        return op.apply(x)
    return op.array(xp, x)  # type: ignore[attr-defined]


class _Unary(Function):
    """A one-argument special function: forward is ``array``; backward is gy times
    ``slope(x, y)``. Saves x (and y where ``keep_y``)."""

    keep_y = False

    @staticmethod
    def array(xp: Any, x: Any) -> Any:
        raise NotImplementedError

    def slope(self, x: Any, y: Any) -> Any:
        raise NotImplementedError

    def forward(self, x: Any) -> Any:
        y = type(self).array(self.xp, x)
        self.saved = (x, y) if self.keep_y else (x,)
        return y

    def backward(self, gy: Any) -> Any:
        x, y = self.saved if self.keep_y else (self.saved[0], None)
        with np.errstate(**_QUIET):
            return gy * self.slope(x, y)


class I0e(_Unary):
    """y = e^-|x| I0(x).  VJP (PyTorch's): gx = gy (i1e(x) - sgn(x) y).  Saves x and y."""

    keep_y = True
    array = staticmethod(i0e_array)

    def slope(self, x: Any, y: Any) -> Any:
        return _of(I1e, self.xp, x) - self.xp.sign(x) * y


class I1e(_Unary):
    """y = e^-|x| I1(x).  VJP (PyTorch's): gx = gy (i0e(x) - y (sgn(x) + 1/x)), gy/2 where
    |x| <= eps (the limit).  Saves x and y."""

    keep_y = True
    array = staticmethod(i1e_array)

    def slope(self, x: Any, y: Any) -> Any:
        xp = self.xp
        tiny = xp.abs(x) <= float(np.finfo(x.dtype).eps)
        safe = xp.where(tiny, 1.0, x)
        return xp.where(tiny, 0.5, _of(I0e, xp, x) - y * (xp.sign(x) + 1 / safe))


class ModifiedBesselK0(_Unary):
    """y = K0(x).  VJP: gx = -gy K1(x).  Saves x."""

    array = staticmethod(k0_array)

    def slope(self, x: Any, y: Any) -> Any:
        return -_of(ModifiedBesselK1, self.xp, x)


class ModifiedBesselK1(_Unary):
    """y = K1(x).  VJP: gx = -gy (K0(x) + y / x).  Saves x and y."""

    keep_y = True
    array = staticmethod(k1_array)

    def slope(self, x: Any, y: Any) -> Any:
        return -(_of(ModifiedBesselK0, self.xp, x) + y / x)


class ScaledModifiedBesselK0(_Unary):
    """y = e^x K0(x).  VJP: gx = gy (y - e^x K1(x)).  Saves x and y."""

    keep_y = True
    array = staticmethod(k0e_array)

    def slope(self, x: Any, y: Any) -> Any:
        return y - _of(ScaledModifiedBesselK1, self.xp, x)


class ScaledModifiedBesselK1(_Unary):
    """y = e^x K1(x).  VJP: gx = gy (y (1 - 1/x) - e^x K0(x)).  Saves x and y."""

    keep_y = True
    array = staticmethod(k1e_array)

    def slope(self, x: Any, y: Any) -> Any:
        return y - y / x - _of(ScaledModifiedBesselK0, self.xp, x)


class BesselJ0(_Unary):
    """y = J0(x).  VJP: gx = -gy J1(x).  Saves x."""

    array = staticmethod(bessel_j0_array)

    def slope(self, x: Any, y: Any) -> Any:
        return -_of(BesselJ1, self.xp, x)


class BesselJ1(_Unary):
    """y = J1(x).  VJP: gx = gy (J0(x) - y / x), gy/2 at x = 0.  Saves x and y."""

    keep_y = True
    array = staticmethod(bessel_j1_array)

    def slope(self, x: Any, y: Any) -> Any:
        xp = self.xp
        zero = x == 0
        return xp.where(zero, 0.5, _of(BesselJ0, xp, x) - y / xp.where(zero, 1.0, x))


class BesselY0(_Unary):
    """y = Y0(x).  VJP: gx = -gy Y1(x).  Saves x."""

    array = staticmethod(bessel_y0_array)

    def slope(self, x: Any, y: Any) -> Any:
        return -_of(BesselY1, self.xp, x)


class BesselY1(_Unary):
    """y = Y1(x).  VJP: gx = gy (Y0(x) - y / x).  Saves x and y."""

    keep_y = True
    array = staticmethod(bessel_y1_array)

    def slope(self, x: Any, y: Any) -> Any:
        return _of(BesselY0, self.xp, x) - y / x


class SphericalBesselJ0Slope(_Unary):
    """y = j0'(x) = (cos x - j0(x)) / x (``spherical_bessel_j0_slope_array``).  VJP: gx =
    gy j0''(x) = -gy (2 j0'(x) / x + j0(x)) (the spherical Bessel equation), -gy/3 at 0.
    Saves x and y."""

    keep_y = True
    array = staticmethod(spherical_bessel_j0_slope_array)

    def slope(self, x: Any, y: Any) -> Any:
        xp = self.xp
        zero = x == 0
        return xp.where(zero, -1 / 3, -(2 * y / xp.where(zero, 1.0, x) +
                                         _of(SphericalBesselJ0, xp, x)))


class SphericalBesselJ0(_Unary):
    """y = j0(x) = sin(x) / x.  VJP: gx = gy j0'(x) (``SphericalBesselJ0Slope``).  Saves x."""

    array = staticmethod(spherical_bessel_j0_array)

    def slope(self, x: Any, y: Any) -> Any:
        return _of(SphericalBesselJ0Slope, self.xp, x)


class Erfcx(_Unary):
    """y = erfcx(x) = e^(x²) erfc(x).  VJP (PyTorch's): gx = gy (2 x y - 2/√π).  Saves x and
    y."""

    keep_y = True
    array = staticmethod(erfcx_array)

    def slope(self, x: Any, y: Any) -> Any:
        return 2 * x * y - 2 * _INV_SQRT_PI


class LogNdtr(_Unary):
    """y = log Φ(x).  VJP: gx = gy φ(x) / Φ(x) = gy √(2/π) / erfcx(-x/√2) (finite and exact
    in both tails, where φ and Φ underflow or 1 - Φ rounds).  Saves x."""

    array = staticmethod(log_ndtr_array)

    def slope(self, x: Any, y: Any) -> Any:
        return _SQRT_2_OVER_PI / _of(Erfcx, self.xp, x * -math.sqrt(0.5))


class Ndtri(_Unary):
    """y = Φ⁻¹(p).  VJP: gp = gy √(2π) e^(y²/2) (1 / φ(y)).  Saves its output y."""

    keep_y = True
    array = staticmethod(ndtri_array)

    def slope(self, x: Any, y: Any) -> Any:
        return math.sqrt(2 * math.pi) * self.xp.exp(y * y * 0.5)


class Entr(Function):
    """y = -x log x for x > 0, 0 at 0, -inf for x < 0 (NaN stays NaN), as PyTorch's.
    VJP (PyTorch's): gx = -gy (1 + log x) (inf at 0, NaN below).  Saves x."""

    def forward(self, x: Any) -> Any:
        xp = self.xp
        self.saved = (x,)
        with np.errstate(**_QUIET):
            y = -x * xp.log(xp.where(x > 0, x, 1.0))
        return xp.where(x < 0, -math.inf, xp.where(x == 0, 0.0, y)).astype(x.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        (x,) = self.saved
        with np.errstate(**_QUIET):
            return -gy * (1 + self.xp.log(x))


class Zeta(Function):
    """y = ζ(x, q), Hurwitz's zeta function (``zeta_array``).  VJP: gq = -gy x ζ(x + 1, q);
    gx is not implemented (as in PyTorch: a RuntimeError if x needs a gradient).  Saves x and
    q."""

    def forward(self, x: Any, q: Any, x_needs_grad: bool = False) -> Any:
        self.saved = (x, q)
        self.x_needs_grad = x_needs_grad
        return zeta_array(self.xp, x, q)

    def backward(self, gy: Any) -> Any:
        x, q = self.saved
        if self.x_needs_grad:
            raise RuntimeError("the derivative of zeta(x, q) in x is not implemented (as in "
                               "PyTorch); only q may require grad")
        if isinstance(x, Tensor):
            return None, gy * -x * Zeta.apply(x + 1, q)
        return None, gy * -x * zeta_array(self.xp, x + 1, q)



# ---- the orthogonal polynomials -------------------------------------------------------------


def _degrees(xp: Any, n: Any) -> Any:
    """Integer degrees as PyTorch reads them: a float n truncated to int64, and NaN, ±inf or
    one past int64 taken as negative (so the polynomial is 0 there)."""
    if n.dtype.kind in "iub":
        return n.astype(np.int64, copy=False)
    ok = xp.isfinite(n) & (xp.abs(n) < 2.0 ** 63)
    return xp.where(ok, xp.trunc(xp.where(ok, n, -1.0)), -1.0).astype(np.int64)


def _recurrence(xp: Any, n: Any, p: Any, q: Any, step: Any) -> Any:
    """q_n from q_0 = p, q_1 = q and q_(j+1) = step(j, q_(j-1), q_j), each element stopping at
    its own degree n (elementwise, in lockstep up to the largest; a NaN stays NaN, so the loop
    ends early once every element still running is NaN)."""
    top = int(n.max()) if n.size else 0
    for j in range(1, top):
        active = j < n
        r = step(j, p, q)
        p, q = xp.where(active, q, p), xp.where(active, r, q)
        if j % 64 == 0 and not bool(xp.any(active & ~xp.isnan(q))):
            break
    return q


def _chebyshev_array(xp: Any, kind: str, x: Any, n: Any, shifted: bool) -> Any:
    """T, U, V or W (``kind``) of degree n at x, or of the shifted ones at 2x - 1, as
    PyTorch: the exact values at the ends of [-1, 1]; for |x| < 1 and a degree past PyTorch's
    threshold (6 for T, 8 for U, V, W; 6, 6, 6, 4 shifted), the trigonometric form (cos nθ,
    sin (n+1)θ / sin θ, cos (n+½)θ / cos ½θ, sin (n+½)θ / sin ½θ, θ = acos x); else the
    three-term recurrence y_(k+1) = 2x y_k - y_(k-1) from y_0 = 1 and y_1 = x, 2x, 2x - 1,
    2x + 1."""
    t = (x + x - 1.0) if shifted else x
    nf = n.astype(np.float64)
    at_top = (x == 1.0) if shifted else (t == 1.0)
    at_bottom = (x == 0.0) if shifted else (t == -1.0)
    even = (n % 2) == 0
    odd_sign = xp.where(even, 1.0, -1.0)
    threshold = {"t": 6, "u": 8, "v": 8, "w": 8}[kind] if not shifted else \
        {"t": 6, "u": 6, "v": 6, "w": 4}[kind]
    inside = xp.abs(t) < 1
    theta = xp.arccos(xp.where(inside, t, 0.0))
    with np.errstate(**_QUIET):
        if kind == "t":
            top, bottom = 1.0 + 0 * nf, odd_sign
            trig = xp.cos(nf * theta)
            first = t
        elif kind == "u":
            top, bottom = nf + 1, odd_sign * (nf + 1)
            s = xp.sin(theta)
            trig = xp.where(s != 0, xp.sin((nf + 1) * theta) / xp.where(s != 0, s, 1.0),
                            (nf + 1) * xp.cos((nf + 1) * theta) / t)
            first = t + t
        elif kind == "v":
            top, bottom = 1.0 + 0 * nf, odd_sign * (2 * nf + 1)
            half = xp.sin(theta / 2) != 1
            trig = xp.where(half, xp.cos((nf + 0.5) * theta) / xp.cos(theta / 2), bottom)
            first = t + t - 1.0
        else:
            top, bottom = 2 * nf + 1, odd_sign
            half = xp.cos(theta / 2) != 1
            trig = xp.where(half, xp.sin((nf + 0.5) * theta) /
                            xp.where(half, xp.sin(theta / 2), 1.0),
                            xp.where(t > 0, 2 * nf + 1, odd_sign))
            first = t + t + 1.0
        use_trig = (n > threshold) & inside
        rec = xp.where(use_trig | at_top | at_bottom | (n < 2), 0, n)
        y = _recurrence(xp, rec, xp.ones(t.shape), first * 1.0,
                        lambda j, p, q: (t + t) * q - p)
    y = xp.where(n == 1, first, y)
    y = xp.where(n == 0, 1.0, y)
    y = xp.where(use_trig, trig, y)
    y = xp.where(at_bottom, bottom, y)
    y = xp.where(at_top, top, y)
    return xp.where(n < 0, 0.0, y)


_HERMITE_LIMIT = 512  # PyTorch's largest degree in float64 (NaN beyond)


def _hermite_array(xp: Any, x: Any, n: Any, physicists: bool) -> Any:
    """H_n (``physicists``: H_(k+1) = 2x H_k - 2k H_(k-1), H_1 = 2x) or He_n (He_(k+1) =
    x He_k - k He_(k-1), He_1 = x) by the recurrence; NaN past degree 512, as PyTorch."""
    scale = 2.0 if physicists else 1.0
    first = scale * x
    with np.errstate(**_QUIET):
        y = _recurrence(xp, xp.where(n > _HERMITE_LIMIT, 0, n), xp.ones(x.shape), first * 1.0,
                        lambda j, p, q: scale * x * q - scale * j * p)
    y = xp.where(n == 1, first, xp.where(n == 0, 1.0, y))
    return xp.where(n < 0, 0.0, xp.where(n > _HERMITE_LIMIT, math.nan, y))


def _laguerre_array(xp: Any, x: Any, n: Any) -> Any:
    """L_n(x) by (k+1) L_(k+1) = (2k + 1 - x) L_k - k L_(k-1), L_1 = 1 - x; 1 at x = 0."""
    with np.errstate(**_QUIET):
        y = _recurrence(xp, n, xp.ones(x.shape), 1.0 - x,
                        lambda j, p, q: ((j + j + (1.0 - x)) * q - j * p) / (j + 1))
    y = xp.where(n == 1, 1.0 - x, xp.where(n == 0, 1.0, y))
    y = xp.where(x == 0, 1.0, y)
    return xp.where(n < 0, 0.0, y)


def _legendre_array(xp: Any, x: Any, n: Any) -> Any:
    """P_n(x) by (k+1) P_(k+1) = (2k+1) x P_k - k P_(k-1), P_1 = x; ±1 at x = ±1."""
    with np.errstate(**_QUIET):
        y = _recurrence(xp, n, xp.ones(x.shape), x * 1.0,
                        lambda j, p, q: ((j + j + 1) * x * q - j * p) / (j + 1))
    y = xp.where(n == 1, x, xp.where(n == 0, 1.0, y))
    y = xp.where(xp.abs(x) == 1, xp.where((x > 0) | (n % 2 == 0), 1.0, -1.0), y)
    return xp.where(n < 0, 0.0, y)


POLYNOMIALS = ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
               "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
               "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
               "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p")


def polynomial_array(xp: Any, name: str, x: Any, n: Any) -> Any:
    """The orthogonal polynomial ``name`` (one of ``POLYNOMIALS``) of degrees n at x, arrays
    that broadcast, in float64 then x's dtype."""
    x64, n64 = xp.broadcast_arrays(_f64(x), n)
    deg = _degrees(xp, n64)
    if name.endswith(("_t", "_u", "_v", "_w")):
        y = _chebyshev_array(xp, name[-1], x64, deg, name.startswith("shifted"))
    elif name == "hermite_polynomial_h":
        y = _hermite_array(xp, x64, deg, True)
    elif name == "hermite_polynomial_he":
        y = _hermite_array(xp, x64, deg, False)
    elif name == "laguerre_polynomial_l":
        y = _laguerre_array(xp, x64, deg)
    else:
        y = _legendre_array(xp, x64, deg)
    return y.astype(x.dtype, copy=False)
