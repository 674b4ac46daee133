"""certsvc: electronic licences (电子证照) and seals (电子印章) with verification.

One vocabulary across the code:

- the department's **seal** (印章): its certification signature on a licence or receipt, drawn as
  the red round seal (:func:`signing.pipeline.seal`);
- the enterprise's **signature** (电子营业执照签章): what an enterprise adds with its business-licence
  certificate to a PDF of its own (:func:`signing.pipeline.sign`);
- the service's **mark** (加注): the service's signature filling the reserved field of a shared copy,
  "仅供 … 用于 …" (:func:`signing.pipeline.mark`).

Layers only look down: ``certsvc`` uses ``signing`` (documents), ``verify`` (verdicts) and ``keys``
(certificates and key storage), which never import ``certsvc``. Inside ``certsvc``, the packages are
named for what they hold (``licences``, ``enterprises``, ``sharing``, ``receipts``, ``departments``,
``verification``, ``sealing``); ``api`` is the HTTP edge and only parses, calls one service
function and shapes the answer; ``resources`` is the composition root every process builds.
"""

__version__ = "0.1.0"
