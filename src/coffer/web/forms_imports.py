"""Forms of the import pages. They parse and label input; the rules (limits, mapping, review state)
live in coffer.imports.services, whose errors web.form_errors pins to the matching field."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler

from coffer.imports import issues, selectors
from coffer.imports.models import ImportBatch
from coffer.ledger.models import Account

MAX_FILES = 20  # files in one upload; each becomes an import
ACCEPT = ".xlsx,.xlsm,.xls,.ods,.csv,.tsv,.txt"
FIELD_CHOICES = [
    ("", "— ignore —"), ("date", "Date (booking)"), ("value_date", "Value date"), ("description", "Description"),
    ("counterparty", "Counterparty"), ("reference", "Reference"), ("amount", "Amount"), ("debit", "Debit (out)"),
    ("credit", "Credit (in)"), ("balance", "Balance"), ("currency", "Currency"), ("category", "Category"),
]
FIELD_LABELS = dict(FIELD_CHOICES)


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


# --- upload -----------------------------------------------------------------------


class SizeLimitedUploadHandler(TemporaryFileUploadHandler):
    """Spools each uploaded file to a temporary file, but drops a file (and remembers its name) as soon as
    it passes IMPORT_MAX_FILE_BYTES, so an oversized upload never fills the disk."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.IMPORT_MAX_FILE_BYTES
        self.too_large: list[str] = []
        self.received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large.append(self.file_name or "upload")
            raise SkipFile
        return super().receive_data_chunk(raw_data, start)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern): cleaned to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True, "accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class UploadForm(forms.Form):
    account = forms.ChoiceField(label="Into account")
    files = MultipleFileField(
        required=False, allow_empty_file=True, label="Statement files")
    sheet = forms.CharField(max_length=255, required=False, label="Sheet (optional)",
                            help_text="Leave empty to let Coffer find the sheet with the transactions.")

    def __init__(self, *args, accounts: list[Account], too_large: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = list(too_large)
        self.fields["files"].help_text = (
            f".xlsx, .xls, .ods or .csv — up to {MAX_FILES} files, each at most "
            f"{megabytes(settings.IMPORT_MAX_FILE_BYTES)}. Each file becomes its own import."
        )
        self.fields["account"].choices = [("", "Choose an account")] + [
            (str(a.pk), f"{a.name} ({a.currency})") for a in accounts
        ]

    def clean_files(self) -> list:
        files = self.cleaned_data["files"]
        limit = settings.IMPORT_MAX_FILE_BYTES
        problems = [f"“{name}” is larger than the limit of {megabytes(limit)}." for name in self.too_large]
        if not files and not problems:
            raise forms.ValidationError("Choose at least one file.")
        if len(files) + len(self.too_large) > MAX_FILES:
            problems.append(f"At most {MAX_FILES} files at once.")
        for upload in files:
            if upload.size > limit:
                problems.append(f"“{upload.name}” is larger than the limit of {megabytes(limit)}.")
            elif upload.size == 0:
                problems.append(f"“{upload.name}” is empty.")
        if problems:
            raise forms.ValidationError(problems)
        return files


# --- mapping ------------------------------------------------------------------------


class MappingForm(forms.Form):
    """One dropdown per column of the file (`col_A`, `col_B`...), the header row and the sheet."""

    header_row = forms.IntegerField(min_value=1, max_value=10_000_000, required=False, label="Header row",
                                    help_text="The row with the column titles (empty: the file has none).")
    sheet = forms.ChoiceField(required=False, label="Sheet")
    remember = forms.BooleanField(required=False, label="Use this mapping for files with the same columns")

    def __init__(self, *args, batch: ImportBatch, columns: int, **kwargs):
        initial = {f"col_{selectors.column_letter(index)}": field for field, index in (batch.mapping or {}).items()}
        initial.update(header_row=batch.header_row, sheet=batch.sheet)
        super().__init__(*args, initial=initial, **kwargs)
        self.letters = [selectors.column_letter(index) for index in range(columns)]
        for letter in self.letters:
            self.fields[f"col_{letter}"] = forms.ChoiceField(choices=FIELD_CHOICES, required=False,
                                                            label=f"Column {letter}")
        names = [info.get("name") for info in batch.sheets or [] if info.get("name")]
        if len(names) > 1:
            self.fields["sheet"].choices = [(name, name) for name in names]
        else:
            del self.fields["sheet"]

    def column_fields(self):
        return [self[f"col_{letter}"] for letter in self.letters]

    def clean(self):
        data = super().clean()
        seen: dict[str, str] = {}
        for letter in self.letters:
            field = data.get(f"col_{letter}")
            if not field:
                continue
            if field in seen:
                message = f"“{FIELD_LABELS[field]}” is chosen for columns {seen[field]} and {letter}; pick one."
                self.add_error(f"col_{letter}", message)
            else:
                seen[field] = letter
        return data

    def mapping(self) -> dict[str, str]:
        """field -> column letter, as services.import_mapping_replace takes it."""
        return {self.cleaned_data[f"col_{letter}"]: letter for letter in self.letters
                if self.cleaned_data.get(f"col_{letter}")}


# --- issue view -----------------------------------------------------------------------


class IssueFilterForm(forms.Form):
    show = forms.ChoiceField(required=False, label="Show", choices=[
        ("issues", "Rows with issues"), ("all", "All rows"), ("excluded", "Excluded rows"),
    ])
    severity = forms.ChoiceField(required=False, label="Severity",
                                 choices=[("", "Errors and warnings"), ("error", "Errors"), ("warning", "Warnings")])
    code = forms.ChoiceField(required=False, label="Issue", choices=[("", "Any issue")] + [(c, c) for c in issues.CODES])
    start = forms.IntegerField(required=False, min_value=1, max_value=10_000_000, label="From row")

    def selection(self) -> dict:
        """Which rows: show (issues/all/excluded), code, severity, and the keyset start (`after`)."""
        data = self.cleaned_data
        code, severity = data.get("code") or None, data.get("severity") or None
        show = data.get("show") or "issues"
        if code or severity:
            show = "issues"  # a code or severity only narrows rows with issues
        start = data.get("start")
        return {"show": show, "code": code, "severity": severity, "after": start - 1 if start else None}


class BulkRowsForm(forms.Form):
    ACTIONS = {"exclude": {"excluded": True}, "include": {"excluded": False},
               "accept": {"accepted_warnings": True}}
    DONE = {"exclude": "Excluded", "include": "Included", "accept": "Accepted the warnings of"}

    rows = forms.TypedMultipleChoiceField(coerce=int, label="Rows", error_messages={
        "required": "Select at least one row."})
    action = forms.ChoiceField(choices=[("exclude", "Exclude"), ("include", "Include"), ("accept", "Accept warnings")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any row number is a choice here; the service refuses numbers the import does not have.
        submitted = self.data.getlist("rows") if hasattr(self.data, "getlist") else []
        self.fields["rows"].choices = [(value, value) for value in submitted[:1000] if str(value).isdigit()]

    def flags(self) -> dict:
        return self.ACTIONS[self.cleaned_data["action"]]

    def done(self, count: int) -> str:
        return f"{self.DONE[self.cleaned_data['action']]} {count} row{'' if count == 1 else 's'}."


class RowFlagsForm(forms.Form):
    FLAGS = ("excluded", "import_anyway", "accepted_warnings")

    excluded = forms.ChoiceField(required=False, choices=[("1", "yes"), ("0", "no")])
    import_anyway = forms.ChoiceField(required=False, choices=[("1", "yes"), ("0", "no")])
    accepted_warnings = forms.ChoiceField(required=False, choices=[("1", "yes"), ("0", "no")])

    def flags(self) -> dict:
        return {name: self.cleaned_data[name] == "1" for name in self.FLAGS if self.cleaned_data.get(name)}


class RowEditForm(forms.Form):
    """One text field per cell of the row (`cell_A`, `cell_B`...), labelled with the column's header."""

    def __init__(self, *args, cells: list[str], headers: dict[str, str], form_id: str, **kwargs):
        initial = {f"cell_{selectors.column_letter(i)}": value for i, value in enumerate(cells)}
        super().__init__(*args, initial=initial, **kwargs)
        self.cells = cells
        self.letters = [selectors.column_letter(i) for i in range(len(cells))]
        for letter in self.letters:
            header = headers.get(letter)
            self.fields[f"cell_{letter}"] = forms.CharField(
                required=False, strip=False, max_length=settings.IMPORT_MAX_CELL_CHARS,
                label=f"{letter}" + (f" · {header}" if header else ""),
                widget=forms.TextInput(attrs={"form": form_id}),  # the <form> sits in the row's last cell
            )
        self.form_id = form_id

    def cell_fields(self):
        return [self[f"cell_{letter}"] for letter in self.letters]

    def changed_cells(self) -> dict[str, str]:
        """Only the cells whose text differs from what the row holds now."""
        changed = {}
        for index, letter in enumerate(self.letters):
            value = self.cleaned_data.get(f"cell_{letter}", "")
            if value != (self.cells[index] if index < len(self.cells) else ""):
                changed[letter] = value
        return changed
