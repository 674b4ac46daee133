"""A structural summary of one PDF revision (pages, annotations, form fields) and the comparison of two.

pyHanko's difference analysis rates "a new signature field with its widget" and "a text field
filled in" alike (FORM_FILLING). Our rule is stricter: after the seal, only signatures may be added.
Comparing what the document *contains* before and after each incremental update makes that rule
checkable without second-guessing pyHanko's object-level whitelist, which still runs as well.

Everything walks hostile input, so every walk is bounded and guards against cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver

from verify.report import RevisionChange

MAX_PAGES = 5000
MAX_FIELDS = 2000
MAX_DEPTH = 32
_VALUE_REPR_MAX = 300


class StructureError(ValueError):
    """The revision's page tree or form is too large or cyclic to summarise."""

    def diagnostics(self) -> str:
        return f"The document structure could not be summarised: {self}."


def _key(obj: object, fallback: str) -> str:
    """Identity of an object: its reference when indirect, else a positional placeholder."""
    if isinstance(obj, generic.IndirectObject):
        return f"{obj.idnum} {obj.generation}"
    return fallback


def _get(d: generic.DictionaryObject, key: str) -> object | None:
    try:
        return d.raw_get(key)
    except KeyError:
        return None


def _deref(obj: object) -> object:
    return obj.get_object() if isinstance(obj, generic.IndirectObject) else obj


@dataclass(frozen=True)
class RevisionSummary:
    """What a revision shows: its pages with their annotations, and its form fields."""

    pages: tuple[str, ...]
    annots: tuple[frozenset[str], ...]  # per page, references of its annotations
    fields: dict[str, tuple[str, str]]  # fully qualified name -> (field type, value key)
    widgets: dict[str, frozenset[str]]  # fully qualified name -> references of its widgets
    field_refs: dict[str, str]  # fully qualified name -> reference of the field dictionary
    containers: frozenset[str]  # catalog, /AcroForm, /Fields, /Info, page /Annots arrays
    annots_arrays: tuple[str | None, ...]  # per page, reference of an indirect /Annots array
    dss: frozenset[str] = frozenset()  # the document security store and its indirect arrays


def summarise(resolver: HistoricalResolver) -> RevisionSummary:
    """Summarise the document as it stood in the revision ``resolver`` views."""
    root = resolver.root
    pages, annots, arrays = _pages(root)
    fields, widgets, field_refs, form_containers = _fields(root)
    containers = set(form_containers)
    root_ref = resolver.root_ref
    containers.add(f"{root_ref.idnum} {root_ref.generation}")
    info = _get(resolver.trailer_view, "/Info")
    if isinstance(info, generic.IndirectObject):
        containers.add(_key(info, ""))
    return RevisionSummary(
        pages=tuple(pages),
        annots=tuple(annots),
        fields=fields,
        widgets=widgets,
        field_refs=field_refs,
        containers=frozenset(containers),
        annots_arrays=tuple(arrays),
        dss=frozenset(_dss_containers(root)),
    )


def _dss_containers(root: generic.DictionaryObject) -> set[str]:
    """The document security store and its indirect arrays: a later signature or document
    time-stamp adds its validation data to them (PAdES B-LT/LTA). They hold certificates, CRLs and
    OCSP responses, nothing a reader shows; pyHanko's ``DSSCompareRule`` checks such an update."""
    raw = _get(root, "/DSS")
    if not isinstance(raw, generic.IndirectObject):
        return set()
    dss = _deref(raw)
    if not isinstance(dss, generic.DictionaryObject) or isinstance(dss, generic.StreamObject):
        return set()
    out = {_key(raw, "")}
    for name in ("/Certs", "/CRLs", "/OCSPs", "/VRI"):
        arr = _get(dss, name)
        if isinstance(arr, generic.IndirectObject) and isinstance(
            _deref(arr), generic.ArrayObject | generic.DictionaryObject
        ):
            out.add(_key(arr, ""))
    return out


def _pages(root: generic.DictionaryObject) -> tuple[list[str], list[frozenset[str]], list[str | None]]:
    pages: list[str] = []
    annots: list[frozenset[str]] = []
    arrays: list[str | None] = []
    start = _get(root, "/Pages")
    if start is None:
        return pages, annots, arrays
    seen: set[str] = set()
    # Depth-first, left to right: push kids reversed.
    stack: list[tuple[object, str, int]] = [(start, "pages-root", 0)]
    while stack:
        raw, fallback, depth = stack.pop()
        key = _key(raw, fallback)
        if key in seen:
            raise StructureError("the page tree contains a cycle")
        seen.add(key)
        if depth > MAX_DEPTH or len(seen) > MAX_PAGES * 2:
            raise StructureError("the page tree is too deep or too large")
        node = _deref(raw)
        if not isinstance(node, generic.DictionaryObject):
            raise StructureError("a page tree node is not a dictionary")
        kids = _get(node, "/Kids")
        if kids is not None and node.get("/Type") != "/Page":
            kids = _deref(kids)
            if not isinstance(kids, generic.ArrayObject):
                raise StructureError("/Kids of a page tree node is not an array")
            for i in range(len(kids) - 1, -1, -1):
                stack.append((kids.raw_get(i), f"{key}/kid{i}", depth + 1))
            continue
        pages.append(key)
        if len(pages) > MAX_PAGES:
            raise StructureError(f"more than {MAX_PAGES} pages")
        annots.append(_annots_of(node, key))
        raw_annots = _get(node, "/Annots")
        arrays.append(_key(raw_annots, "") if isinstance(raw_annots, generic.IndirectObject) else None)
    return pages, annots, arrays


def _annots_of(page: generic.DictionaryObject, page_key: str) -> frozenset[str]:
    raw = _get(page, "/Annots")
    if raw is None:
        return frozenset()
    arr = _deref(raw)
    if not isinstance(arr, generic.ArrayObject):
        return frozenset({f"{page_key}/annots-not-an-array"})
    return frozenset(_key(arr.raw_get(i), f"{page_key}/direct-annot{i}") for i in range(len(arr)))


def _value_key(raw: object | None) -> str:
    if raw is None:
        return "-"
    if isinstance(raw, generic.IndirectObject):
        target = raw.get_object()
        if isinstance(target, generic.DictionaryObject | generic.StreamObject):
            # A signature dictionary or rich value: identity by reference; content changes to
            # such objects are caught by pyHanko's own object-level analysis.
            return f"ref {raw.idnum} {raw.generation}"
        raw = target
    return repr(raw)[:_VALUE_REPR_MAX]


_FieldMaps = tuple[dict[str, tuple[str, str]], dict[str, frozenset[str]], dict[str, str], set[str]]


def _fields(root: generic.DictionaryObject) -> _FieldMaps:
    fields: dict[str, tuple[str, str]] = {}
    widgets: dict[str, frozenset[str]] = {}
    field_refs: dict[str, str] = {}
    containers: set[str] = set()
    result = (fields, widgets, field_refs, containers)
    acroform_raw = _get(root, "/AcroForm")
    if acroform_raw is None:
        return result
    if isinstance(acroform_raw, generic.IndirectObject):
        containers.add(_key(acroform_raw, ""))
    acroform = _deref(acroform_raw)
    if not isinstance(acroform, generic.DictionaryObject):
        return result
    top_raw = _get(acroform, "/Fields")
    if isinstance(top_raw, generic.IndirectObject):
        containers.add(_key(top_raw, ""))
    top = _deref(top_raw) if top_raw is not None else None
    if not isinstance(top, generic.ArrayObject):
        return result
    seen: set[str] = set()
    stack: list[tuple[object, str, str, str, int]] = [
        (top.raw_get(i), f"field{i}", "", "", 0) for i in range(len(top) - 1, -1, -1)
    ]
    while stack:
        raw, fallback, parent_name, parent_ft, depth = stack.pop()
        key = _key(raw, fallback)
        if key in seen:
            raise StructureError("the form field tree contains a cycle")
        seen.add(key)
        if depth > MAX_DEPTH or len(seen) > MAX_FIELDS:
            raise StructureError("the form field tree is too deep or too large")
        node = _deref(raw)
        if not isinstance(node, generic.DictionaryObject):
            continue
        partial = node.get("/T")
        name = parent_name if partial is None else (f"{parent_name}.{partial}" if parent_name else str(partial))
        ft = str(node.get("/FT", parent_ft))
        kids_raw = _get(node, "/Kids")
        kids = _deref(kids_raw) if kids_raw is not None else None
        child_fields: list[tuple[object, str]] = []
        own_widgets: set[str] = set()
        if isinstance(kids, generic.ArrayObject):
            for i in range(len(kids)):
                kid_raw = kids.raw_get(i)
                kid = _deref(kid_raw)
                kid_key = _key(kid_raw, f"{key}/kid{i}")
                if isinstance(kid, generic.DictionaryObject) and "/T" in kid:
                    child_fields.append((kid_raw, kid_key))
                else:
                    own_widgets.add(kid_key)
        else:
            own_widgets.add(key)  # field and widget merged in one dictionary
        for kid_raw, kid_key in reversed(child_fields):
            stack.append((kid_raw, kid_key, name, ft, depth + 1))
        if child_fields and not own_widgets - {key}:
            continue  # a pure parent node: its children carry the values
        fields[name] = (ft, _value_key(_get(node, "/V")))
        widgets[name] = frozenset(own_widgets)
        field_refs[name] = key
    return result


ALLOWED_REWRITE_TYPES = frozenset({"/Metadata", "/XRef", "/ObjStm"})


def rewritten_objects(resolver: HistoricalResolver) -> dict[str, str]:
    """Objects that the revision viewed by ``resolver`` overwrote (they existed before it).

    Maps each reference to the object's ``/Type`` (or Python type name) for messages and for
    the few kinds a signing update legitimately rewrites (metadata, xref and object streams).
    """
    rev = resolver.revision
    xrefs = resolver.reader.xrefs
    out: dict[str, str] = {}
    for ref in xrefs.explicit_refs_in_revision(rev):
        if xrefs.get_historical_ref(ref, rev - 1) is None:
            continue  # a new object, not a rewrite
        try:
            obj = resolver(ref)
            kind = str(obj.get("/Type", type(obj).__name__)) if isinstance(obj, dict) else type(obj).__name__
        except Exception:  # unreadable objects are reported, not raised
            kind = "unreadable"
        out[f"{ref.idnum} {ref.generation}"] = kind
    return out


def compare(
    old: RevisionSummary, new: RevisionSummary, revision: int, rewritten: dict[str, str] | None = None
) -> RevisionChange:
    """What ``new`` (the document at ``revision``) changed relative to ``old``.

    A signature field that existed empty and is now signed counts as an added signature.
    ``rewritten`` (from :func:`rewritten_objects`) lists overwritten objects; those a signature
    update has no business touching (an existing field's appearance stream, a content stream,
    a font...) are reported as ``unexpected_rewrites`` even where pyHanko's form-filling rules
    would let them pass.
    """
    added = tuple(sorted(set(new.fields) - set(old.fields)))
    removed = tuple(sorted(set(old.fields) - set(new.fields)))
    common = set(old.fields) & set(new.fields)
    filled = tuple(
        sorted(
            n
            for n in common
            if old.fields[n] == ("/Sig", "-") and new.fields[n][0] == "/Sig" and new.fields[n][1] != "-"
        )
    )
    changed = tuple(sorted(n for n in common if old.fields[n] != new.fields[n] and n not in filled))
    non_sig_added = tuple(n for n in added if new.fields[n][0] != "/Sig")
    sig_names = [n for n in added if new.fields[n][0] == "/Sig"] + list(filled)
    new_sig_widgets: set[str] = set()
    sig_objects: set[str] = set()
    for n in sig_names:
        new_sig_widgets |= new.widgets.get(n, frozenset())
        sig_objects.add(new.field_refs.get(n, ""))
    sig_objects |= new_sig_widgets
    annots_added = annots_removed = 0
    touched_pages: set[str] = set()
    for i, new_annots in enumerate(new.annots):
        old_annots = old.annots[i] if i < len(old.annots) else frozenset()
        if new_annots != old_annots:
            touched_pages.add(new.pages[i])
            array = new.annots_arrays[i] if i < len(new.annots_arrays) else None
            if array:
                touched_pages.add(array)
        annots_added += len(new_annots - old_annots - new_sig_widgets)
        annots_removed += len(old_annots - new_annots)
    for i in range(len(new.annots), len(old.annots)):
        annots_removed += len(old.annots[i])
    # the DSS may be updated in place, but only where it was the DSS before and still is
    allowed = new.containers | old.containers | touched_pages | sig_objects | (old.dss & new.dss)
    unexpected = tuple(
        f"object {ref} ({kind})"
        for ref, kind in sorted((rewritten or {}).items())
        if ref not in allowed and kind not in ALLOWED_REWRITE_TYPES
    )
    return RevisionChange(
        revision=revision,
        pages_before=len(old.pages),
        pages_after=len(new.pages),
        pages_changed=old.pages != new.pages,
        fields_added=tuple(sorted(sig_names)) + non_sig_added,
        non_signature_fields_added=non_sig_added,
        fields_removed=removed,
        fields_changed=changed,
        annotations_added=annots_added,
        annotations_removed=annots_removed,
        unexpected_rewrites=unexpected,
    )
