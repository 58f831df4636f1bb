"""Settings forms that post every setting they show (tenant settings, SSO settings) change only
the settings changed on the page: each field also posts the value the page showed (Django's
``show_hidden_initial``), so a page opened before someone else changed a setting does not put the
older value back when it is saved for another change."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.http import QueryDict


def post_values_shown(form: forms.BaseForm, *, exclude: tuple[str, ...] = ()) -> None:
    """Call at the end of ``form.__init__``. A bound form whose data lacks a shown value (a
    hand-made POST, a page from before this existed) gets the current one, so nothing the user
    typed is mistaken for what the page showed when the page is rendered again."""
    missing: dict[str, Any] = {}
    for name, field in form.fields.items():
        if name in exclude:
            continue
        field.show_hidden_initial = True
        key = form.add_initial_prefix(name)
        if form.is_bound and key not in form.data:
            shown = field.hidden_widget().format_value(field.prepare_value(form.get_initial_for_field(field, name)))
            missing[key] = "" if shown is None else shown
    if missing:
        data = QueryDict(mutable=True)
        data.update(form.data)
        data.update(missing)
        form.data = data


def changed_on_page(form: forms.BaseForm) -> dict[str, Any]:
    """The cleaned values of the settings changed on the page, by field name."""
    return {name: form.cleaned_data[name] for name in form.changed_data}


def _shown(form: forms.BaseForm, name: str) -> Any:
    field = form.fields[name]
    raw = field.hidden_widget().value_from_datadict(form.data, form.files, form.add_initial_prefix(name))
    try:
        return field.to_python(raw)
    except forms.ValidationError:
        return None


def _as_shown(field: forms.Field, value: Any) -> Any:
    """``value`` as the page would post it back had it shown it (through its hidden twin and the
    field's reading): the stored value and the shown one compare alike, whatever spelling is
    stored (a certificate's last newline, its line breaks)."""
    shown = field.hidden_widget().format_value(field.prepare_value(value))
    try:
        return field.to_python("" if shown is None else shown)
    except forms.ValidationError:
        return value


def _display(field: forms.Field, value: Any) -> str:
    if value is None or value == "":
        return "empty"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(dict(getattr(field, "choices", ())).get(value, value))


def refuse_changed_meanwhile(form: forms.BaseForm, current: dict[str, Any]) -> bool:
    """Call on a valid form, with the settings' ``current`` values. A setting changed on the page
    that someone else changed since the page showed it (to something else than what was typed)
    gets a form error naming its current value, which the page then counts as shown: saving again,
    having seen it, replaces it. Returns whether any was refused."""
    refused = False
    for name in form.changed_data:
        if name not in current:
            continue
        field = form.fields[name]
        now = _as_shown(field, current[name])
        if now == form.cleaned_data.get(name) or _shown(form, name) == now:
            continue
        form.add_error(
            name,
            f"Changed by someone else since this page was opened: it is now {_display(field, current[name])}. "
            "Save again to replace it.",
        )
        data = QueryDict(mutable=True)
        data.update(form.data)
        shown = field.hidden_widget().format_value(field.prepare_value(current[name]))
        data[form.add_initial_prefix(name)] = "" if shown is None else shown
        form.data = data
        refused = True
    return refused


class ShownValuesForm(forms.ModelForm):
    """A model form whose change page posts the values it showed (``post_values_shown``; the
    ``not_shown`` fields excepted, e.g. a secret never rendered): its ``clean`` calls
    ``refuse_stale`` with the saved values it guards."""

    not_shown: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            post_values_shown(self, exclude=self.not_shown)

    def refuse_stale(self, fields: Any) -> None:
        """On a valid change: refuse (``refuse_changed_meanwhile``) those of ``fields`` changed
        on the page that someone else changed since it was opened. ``self.instance`` still
        holds the saved values while the form cleans."""
        if self.instance.pk is not None and not self.errors:
            refuse_changed_meanwhile(self, self.saved_values(fields))

    def saved_values(self, fields: Any) -> dict[str, Any]:
        """The saved values of ``fields`` as the page shows them."""
        return {name: getattr(self.instance, name) for name in fields}
