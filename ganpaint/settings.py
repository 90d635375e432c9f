"""A recipe's settings by section: `--set SECTION.KEY=VALUE`, recipe files, and where each
value comes from.

A recipe (`ganpaint.recipe_presets.Recipe`) holds every setting of an experiment, in five
sections (`SECTIONS`): data, networks, model, optimizer and run. Beside its named fields:
- the model section takes every keyword of the family's model class (`model.cycle_weight`,
  `model.d_steps`, `model.l1_weight`): they go straight to the class (`model_options`);
- the networks section takes every keyword of the recipe's generator and discriminator
  builders (`networks.generator.residual`, `networks.discriminator.affine_norm`).

>>> recipe = apply(get("monet_cyclegan"),
...                {"model.cycle_weight": 10, "optimizer.g_learning_rate": "1e-4"})
>>> for row in describe("monet_cyclegan", settings={"model.cycle_weight": 10}): print(row)

Values given as text (the command line's) are parsed as Python literals (`10`, `1e-4`, `none`,
`true`, `(0.7, 1.2)`), else kept as text, and checked against the type the field or keyword
declares. A key the section does not have is one line that lists the section's keys.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import json
import typing

from ganpaint.errors import UserError
from ganpaint.recipe_presets import OPTION_FIELDS, RECIPES, SECTIONS, Recipe, get

_NETWORK_ARGS = {
    "generator",
    "discriminator",
    "g_ab",
    "g_ba",
    "d_a",
    "d_b",
    "seed",
    "latent_dim",
    "name",
    "kwargs",
}
# Builder keywords a named field already sets (so `networks.generator.filters` is refused,
# and `networks.base_filters` named instead).
_BUILDER_FIELDS = {
    "image_shape",
    "latent_dim",
    "num_classes",
    "aux_classifier",
    "base_filters",
    "filters",
    "max_filters",
    "norm",
    "conditioning",
    "dropout",
    "backbone",
    "weights",
    "name",
    "receptive_field",
    "conditional",
    "spectral_norm",
}

# The discriminator's width may differ from the generator's (`networks.base_filters`):
# `networks.discriminator.filters` (PatchGAN) or `.base_filters` (DCGAN) sets it alone.
_D_WIDTH = {"filters", "base_filters"}


# -- what each section takes ---------------------------------------------------------------------


_FRAMEWORKS = ("keras", "tensorflow", "builtins")


def keywords(fn_or_class) -> dict[str, inspect.Parameter]:
    """The keyword parameters of a function, or of a class's constructors along its bases
    (a subclass's `**kwargs` passes the rest on), by name."""
    found: dict[str, inspect.Parameter] = {}
    chain = (
        [c for c in fn_or_class.__mro__ if "__init__" in vars(c)]
        if isinstance(fn_or_class, type)
        else [fn_or_class]
    )
    for owner in chain:
        if isinstance(fn_or_class, type) and owner.__module__.split(".")[0] in _FRAMEWORKS:
            break  # keras.Model's own keywords (name, trainable) are not settings
        fn = owner.__init__ if isinstance(fn_or_class, type) else owner
        params = inspect.signature(fn).parameters
        for name, p in params.items():
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                found.setdefault(name, p)
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            break
    return found


def _family(recipe: Recipe):
    from ganpaint import families

    return families.family(recipe.model)


def option_keys(recipe: Recipe) -> dict[str, dict[str, inspect.Parameter]]:
    """For each option field, the keywords it may hold: the model class's keywords no named
    field covers, and the builders' keywords."""
    family = _family(recipe)
    model = {
        k: p
        for k, p in keywords(family.model_class).items()
        if k not in _NETWORK_ARGS and k not in SECTIONS["model"]
    }
    g, d = family.builders(recipe)
    return {
        "model_options": model,
        "generator_options": {k: p for k, p in keywords(g).items() if k not in _BUILDER_FIELDS},
        "discriminator_options": {
            k: p for k, p in keywords(d).items() if k not in _BUILDER_FIELDS - _D_WIDTH
        },
    }


# Named fields a kind of family does not read (its networks or data take no such thing).
_UNUSED = {
    "generate": {
        "val_pairs",
        "generator",
        "receptive_field",
        "backbone",
        "backbone_weights",
        "num_classes",
        "conditioning",
        "g_conditioning",
        "judge",
    },
    "labelled": {"generator", "receptive_field", "backbone", "backbone_weights", "val_pairs"},
    "translate": {
        "latent_dim",
        "num_classes",
        "conditioning",
        "g_conditioning",
        "annotations",
        "box_margin",
        "judge",
    },
}


def applies(recipe: Recipe, key: str) -> bool:
    """Whether a named field means something to this recipe's family (a model-section field:
    whether its model class takes it)."""
    family = _family(recipe)
    if key in SECTIONS["model"]:
        return key in keywords(family.model_class)
    if key in ("backbone", "backbone_weights") and recipe.generator != "efficientnet":
        return False
    if key in ("beta_1", "beta_2") and recipe.optimizer != "adam":
        return False  # Adam's
    return key not in _UNUSED[family.kind]


def section_keys(recipe: Recipe, section: str) -> list[str]:
    """Every key `SECTION.KEY` may name for this recipe."""
    keys = [k for k in SECTIONS[section] if applies(recipe, k)]
    for field_name, (owner, prefix) in OPTION_FIELDS.items():
        if owner == section:
            keys += [prefix + k for k in option_keys(recipe)[field_name]]
    return keys


# -- parsing and checking values -----------------------------------------------------------------


def parse_value(text):
    """A value from text: a Python literal (10, 1e-4, (0.7, 1.2), 'x'), none/null, true/false,
    else the text itself. Values that are not text pass through."""
    if not isinstance(text, str):
        return text
    lowered = text.strip().lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text


@functools.cache
def _recipe_hints() -> dict:
    return typing.get_type_hints(Recipe)


def _parameter_type(p: inspect.Parameter, fn) -> typing.Any:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = {}
    if p.name in hints:
        return hints[p.name]
    if p.default is not inspect.Parameter.empty and p.default is not None:
        return type(p.default)
    return typing.Any


def _allowed(hint) -> list:
    """The plain types a hint accepts (Any: every one)."""
    if hint is typing.Any or hint is inspect.Parameter.empty:
        return [object]
    origin = typing.get_origin(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return [t for a in typing.get_args(hint) for t in _allowed(a)]
    if origin is not None:
        return [origin]
    if hint is None or hint is type(None):
        return [type(None)]
    return [hint] if isinstance(hint, type) else [object]


def check_value(key: str, value, hint):
    """`value` as the type `hint` declares (an int where a float is declared becomes one), or
    a one-line error naming the key, the type and the value."""
    allowed = _allowed(hint)
    if object in allowed or any(
        isinstance(value, t) and not (t is int and isinstance(value, bool) and bool not in allowed)
        for t in allowed
    ):
        return value
    if float in allowed and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tuple in allowed and isinstance(value, list):
        return tuple(value)
    names = " or ".join(sorted({("None" if t is type(None) else t.__name__) for t in allowed}))
    raise UserError(f"Setting {key} takes {names}. Received: {value!r}")


# -- applying settings ---------------------------------------------------------------------------


def _split(key: str) -> tuple[str, str]:
    section, _, rest = str(key).partition(".")
    if not rest or section not in SECTIONS:
        raise UserError(
            f"Setting {key!r} must be SECTION.KEY, with SECTION one of "
            f"{', '.join(SECTIONS)} (e.g. model.cycle_weight=10)."
        )
    return section, rest


def apply(recipe: Recipe, settings: dict | None) -> Recipe:
    """`recipe` with `settings` ({"model.cycle_weight": 10, "data.image_size": "128"}) applied,
    each key checked against its section and each value against its declared type."""
    if not settings:
        return recipe
    changes: dict = {}
    options = {name: dict(getattr(recipe, name)) for name in OPTION_FIELDS}
    for key, raw in settings.items():
        section, rest = _split(key)
        value = _tuples(parse_value(raw))
        if rest in SECTIONS[section]:
            if not applies(recipe.replace(**changes), rest):
                raise UserError(
                    f"Setting {key} does not apply to recipe {recipe.name} "
                    f"({recipe.model}). The {section} section's keys: "
                    f"{', '.join(section_keys(recipe.replace(**changes), section))}"
                )
            changes[rest] = check_value(key, value, _recipe_hints()[rest])
            continue
        target = _option_field(recipe.replace(**changes), section, rest)
        if target is None:
            keys = section_keys(recipe.replace(**changes), section)
            raise UserError(
                f"Unknown setting {key} for recipe {recipe.name} ({recipe.model}). "
                f"The {section} section's keys: {', '.join(keys)}"
            )
        field_name, name, param, fn = target
        options[field_name][name] = check_value(key, value, _parameter_type(param, fn))
    changed = recipe.replace(
        **changes, **{k: v for k, v in options.items() if v != getattr(recipe, k)}
    )
    check_options(changed)
    return changed


def _option_field(recipe, section, rest):
    for field_name, (owner, prefix) in OPTION_FIELDS.items():
        if owner != section or not rest.startswith(prefix):
            continue
        name = rest[len(prefix) :]
        keys = option_keys(recipe)[field_name]
        if name in keys:
            family = _family(recipe)
            fn = {
                "model_options": family.model_class,
                "generator_options": family.builders(recipe)[0],
                "discriminator_options": family.builders(recipe)[1],
            }[field_name]
            return field_name, name, keys[name], (fn.__init__ if isinstance(fn, type) else fn)
    return None


def check_options(recipe: Recipe) -> None:
    """Each option a recipe holds is a keyword its class or builder takes (a recipe file's, or
    one left from another generator choice)."""
    known = option_keys(recipe)
    for field_name, (section, prefix) in OPTION_FIELDS.items():
        for name in getattr(recipe, field_name):
            if name not in known[field_name]:
                keys = section_keys(recipe, section)
                raise UserError(
                    f"Unknown setting {section}.{prefix}{name} for recipe "
                    f"{recipe.name} ({recipe.model}). The {section} section's "
                    f"keys: {', '.join(keys)}"
                )


def parse_assignments(items) -> dict:
    """`["model.cycle_weight=10", ...]` (the command line's --set) as a dict of text values."""
    found = {}
    for item in items or ():
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UserError(
                f"--set takes SECTION.KEY=VALUE (e.g. model.cycle_weight=10). Received: {item!r}"
            )
        found[key.strip()] = value
    return found


# -- what a run records, and where each value came from ------------------------------------------


def resolved(recipe: Recipe) -> dict:
    """The recipe's settings by section, as JSON values (what a run folder records)."""
    found = {section: recipe.section(section) for section in SECTIONS}
    for field_name, (section, prefix) in OPTION_FIELDS.items():
        for name, value in getattr(recipe, field_name).items():
            found[section][prefix + name] = value
    return json.loads(json.dumps(found, default=repr))


def record(recipe: Recipe) -> dict:
    """The whole recipe as JSON: its name, summary, family and every section (what a run
    folder's run.json keeps, and what `from_record` reads back)."""
    return {
        "name": recipe.name,
        "summary": recipe.summary,
        "family": recipe.model,
        **resolved(recipe),
        "smoke_sizes": json.loads(json.dumps(recipe.smoke)),
    }


def from_record(found: dict, where: str = "record") -> Recipe:
    """The `Recipe` a `record` describes."""
    try:
        fields = {
            "name": found["name"],
            "summary": found.get("summary", ""),
            "model": found["family"],
            "smoke": {k: _tuples(v) for k, v in found.get("smoke_sizes", {}).items()},
        }
        options = {name: {} for name in OPTION_FIELDS}
        hints = _recipe_hints()
        for section in SECTIONS:
            for key, value in found[section].items():
                if key in SECTIONS[section]:
                    fields[key] = (
                        _tuples(value)
                        if hints[key] is typing.Any or "tuple" in str(hints[key])
                        else value
                    )
                    continue
                for name, (owner, prefix) in OPTION_FIELDS.items():
                    if (
                        owner == section
                        and key.startswith(prefix)
                        and (prefix or not key.startswith(("generator.", "discriminator.")))
                    ):
                        options[name][key[len(prefix) :]] = _tuples(value)
                        break
    except (KeyError, TypeError, AttributeError) as err:
        raise UserError(f"{where} is not a whole recipe record (missing {err}).") from None
    recipe = Recipe(**fields, **options)
    check_options(recipe)
    return recipe


def from_run(out_dir: str) -> Recipe:
    """The recipe a run folder was trained with (as first started), from its run.json."""
    from ganpaint import fs, runs

    held = runs.read_run_record(out_dir)
    if held is None or "recipe_settings" not in held:
        raise UserError(
            f"{fs.join(out_dir, 'run.json')} holds no recipe record (a run "
            "started before runs recorded their recipe, or not a recipe's run)."
        )
    return from_record(held["recipe_settings"], fs.join(out_dir, "run.json"))


def _tuples(value):
    """JSON and YAML lists as the tuples recipes hold (`sample`, `label_smoothing`)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def identity(recipe: Recipe) -> dict:
    """The settings that make two runs the same run: every section but `run` (epochs,
    checkpoints, how often scores are taken and where weights come from may change between a
    run and its continuation)."""
    found = resolved(recipe)
    del found["run"]
    found["networks"].pop("backbone_weights", None)
    found["data"].pop("on_error", None)
    return found


def differences(held: dict, current: dict, optional=()) -> list[str]:
    """`SECTION.KEY held -> current` for each setting two `identity` records disagree on,
    leaving out the "SECTION.KEY"s of `optional`."""
    lines = []
    for section in sorted(set(held) | set(current)):
        a, b = held.get(section, {}), current.get(section, {})
        for key in sorted(set(a) | set(b)):
            if f"{section}.{key}" in optional:
                continue
            if a.get(key) != b.get(key):
                lines.append(f"{section}.{key} {a.get(key)!r} -> {b.get(key)!r}")
    return lines


def describe(
    name: str | Recipe, smoke: bool = False, settings: dict | None = None, **overrides
) -> list[tuple[str, str, typing.Any, str]]:
    """Every setting of a recipe as (section, key, value, where it came from). Sources:
    "default" (`Recipe`'s), "recipe", "smoke", "set" (settings or overrides), for values
    left to the model, its preset or default by name ("CycleGAN preset 'ganpaint'"), and for
    a builder default that has changed between versions (`families.CHANGED_DEFAULTS`), the
    value a run records ("builder's default (recorded)")."""
    base = get(name)
    recipe = apply(get(base, smoke=smoke, **overrides), settings)
    defaults = {
        f.name: (
            f.default
            if f.default is not dataclasses.MISSING
            else f.default_factory()
            if f.default_factory is not dataclasses.MISSING
            else None
        )
        for f in dataclasses.fields(Recipe)
    }
    given = set(overrides) | {k.partition(".")[2] for k in (settings or {})}

    def source(key, value):
        if key in given:
            return "set"
        if smoke and key in base.smoke:
            return "smoke"
        return "recipe" if value != defaults.get(key) else "default"

    family = _family(recipe)
    cls = family.model_class
    from ganpaint.families import recorded_defaults

    builder_said = recorded_defaults(recipe)  # what its runs record of the builders' defaults
    model_defaults = {k: p.default for k, p in keywords(cls).items()}
    preset = dict(getattr(cls, "PRESETS", {}).get(recipe.preset, {}))
    optimizer = (
        dict(getattr(cls, "preset_optimizer", None) or {})
        if not preset
        else {k: preset[k] for k in ("learning_rate", "beta_1", "beta_2") if k in preset}
    )
    rows = []
    for section, keys in SECTIONS.items():
        for key in keys:
            value, where = getattr(recipe, key), source(key, getattr(recipe, key))
            if not applies(recipe, key):
                continue  # the family's networks or model do not read it
            if value is None and where == "default":
                value, where = _left_to_model(
                    cls, key, preset, optimizer, model_defaults, recipe.preset
                )
            rows.append((section, key, value, where))
        for field_name, (owner, prefix) in OPTION_FIELDS.items():
            if owner != section:
                continue
            held = getattr(recipe, field_name)
            for key, param in option_keys(recipe)[field_name].items():
                if key in held:
                    where = "set" if prefix + key in given else "recipe"
                    rows.append((section, prefix + key, held[key], where))
                elif field_name == "model_options" and key in preset and param.default is None:
                    rows.append(
                        (section, key, preset[key], f"{cls.__name__} preset {recipe.preset!r}")
                    )
                elif field_name == "discriminator_options" and key in _D_WIDTH:
                    # unset, the discriminator's width is the section's
                    rows.append(
                        (section, prefix + key, recipe.base_filters, "networks.base_filters")
                    )
                elif f"{section}.{prefix}{key}" in builder_said:
                    value = builder_said[f"{section}.{prefix}{key}"]
                    rows.append((section, prefix + key, value, "builder's default (recorded)"))
                else:
                    default = None if param.default is inspect.Parameter.empty else param.default
                    rows.append((section, prefix + key, default, "default"))
    return rows


def _left_to_model(cls, key, preset, optimizer, model_defaults, preset_name):
    rate = {"g_learning_rate": "learning_rate", "d_learning_rate": "learning_rate"}.get(key, key)
    if rate in optimizer and key in SECTIONS["optimizer"]:
        return optimizer[rate], (
            f"{cls.__name__} preset {preset_name!r}"
            if preset
            else f"{cls.__name__}.preset_optimizer"
        )
    if key in preset:
        return preset[key], f"{cls.__name__} preset {preset_name!r}"
    if key in model_defaults and model_defaults[key] is not inspect.Parameter.empty:
        return model_defaults[key], f"{cls.__name__} default"
    return None, "default"


# -- recipe files -------------------------------------------------------------------------------


def load_file(path: str) -> Recipe:
    """A recipe from a YAML/JSON file or a Python file (which defines `RECIPE`: a `Recipe`, or
    a dict like the YAML below). The dict form names a `base` recipe and changes sections:

        base: monet_cyclegan
        name: monet_cycle10
        model: {cycle_weight: 10}
        optimizer: {g_learning_rate: 1.0e-4}
    """
    from ganpaint import fs

    if not fs.isfile(path):
        raise UserError(f"Recipe file not found: {path}. Recipes: {', '.join(RECIPES)}.")
    text = fs.read_text(path)
    if path.endswith(".py"):
        scope: dict = {"__file__": path}
        exec(compile(text, path, "exec"), scope)
        if "RECIPE" not in scope:
            raise UserError(
                f"{path} defines no RECIPE (a ganpaint Recipe, or a dict with base and sections)."
            )
        spec = scope["RECIPE"]
    else:
        spec = _load_mapping(path, text)
    if isinstance(spec, Recipe):
        check_options(spec)
        return spec
    if isinstance(spec, dict) and "recipe_settings" in spec:  # a run folder's run.json
        return from_record(spec["recipe_settings"], path)
    return from_mapping(spec, path)


def _load_mapping(path, text):
    if path.endswith(".json"):
        return json.loads(text)
    try:
        import yaml
    except ImportError:
        raise UserError(
            f"{path}: reading YAML recipes needs PyYAML (pip install pyyaml); "
            "or write the recipe as .json or .py."
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UserError(f"{path} is not valid YAML: {str(err).splitlines()[0]}") from None


def from_mapping(spec, where: str = "recipe") -> Recipe:
    """A `Recipe` from {"base": NAME, "name": ..., "summary": ..., SECTION: {KEY: VALUE}}."""
    if not isinstance(spec, dict):
        raise UserError(
            f"{where} must hold a mapping with base and sections. Received {type(spec).__name__}."
        )
    spec = dict(spec)
    unknown = sorted(set(spec) - {"base", "name", "summary", "model_family", *SECTIONS})
    if unknown:
        raise UserError(
            f"{where}: unknown entries {', '.join(unknown)}. Entries: base, name, "
            f"summary, {', '.join(SECTIONS)}."
        )
    if "base" not in spec:
        raise UserError(f"{where} names no base recipe (base: one of {', '.join(RECIPES)}).")
    base = spec.pop("base")
    if base not in RECIPES:
        raise UserError(f"{where}: unknown base recipe {base!r}. Recipes: {', '.join(RECIPES)}")
    recipe = RECIPES[base]
    meta = {k: spec.pop(k) for k in ("name", "summary") if k in spec}
    settings = {}
    for section, values in spec.items():
        if not isinstance(values, dict):
            raise UserError(f"{where}: section {section} must be a mapping of keys to values.")
        settings.update({f"{section}.{k}": v for k, v in values.items()})
    return apply(recipe.replace(**meta), settings)


def recipe_from(name_or_path: str | Recipe) -> Recipe:
    """A recipe by name, a `Recipe`, or a recipe file (.yaml, .yml, .json, .py)."""
    if isinstance(name_or_path, Recipe) or name_or_path in RECIPES:
        return get(name_or_path)
    if str(name_or_path).endswith((".yaml", ".yml", ".json", ".py")):
        return load_file(str(name_or_path))
    raise UserError(
        f"Unknown recipe {name_or_path!r}. Recipes: {', '.join(RECIPES)}; or a "
        "recipe file (.yaml, .json, .py)."
    )
