"""The minimal program ``benchmarks/book.py`` times ``xmargin stress --summary`` against."""

#: The minimal pass of figure 6, run as its own process: pyarrow reads the CSV, NumPy
#: computes the stress summary (WETH -20%, category rule; the generated books have no
#: size haircut).
MINIMAL = r"""
import sys, tomllib
import numpy as np, pyarrow as pa, pyarrow.csv as pacsv, pyarrow.compute as pc
market, positions = sys.argv[1], sys.argv[2]
doc = tomllib.load(open(market, "rb"))
names = list(doc["assets"])
a = doc["assets"]
price = np.array([float(a[s]["price"]) for s in names])
price[names.index("WETH")] *= 0.8
lt = np.array([float(a[s]["liquidation_threshold"]) for s in names])
mbw = np.array([float(a[s].get("maintenance_borrow_weight", 1)) for s in names])
cats = doc.get("categories", {})
cat_names = list(cats)
lt_cat = np.tile(lt, (len(cat_names) + 1, 1))
for i, c in enumerate(cat_names):
    for s in cats[c]["assets"]:
        lt_cat[i, names.index(s)] = float(cats[c]["liquidation_threshold"])
t = pacsv.read_csv(positions)
acc = pc.dictionary_encode(t.column("account")).combine_chunks()
row = acc.indices.to_numpy()
n = len(acc.dictionary)
ai = pc.index_in(t.column("asset"), value_set=pa.array(names)).to_numpy()
ci = pc.index_in(t.column("category"), value_set=pa.array(cat_names)).fill_null(len(cat_names))
ci = ci.to_numpy()
s = t.column("supply").to_numpy()
b = t.column("borrow").to_numpy()
v_s = s * price[ai]
v_b = b * price[ai]
mc = np.bincount(row, v_s * lt_cat[ci, ai], minlength=n)
md = np.bincount(row, v_b * mbw[ai], minlength=n)
cv = np.bincount(row, v_s, minlength=n)
dv = np.bincount(row, v_b, minlength=n)
liq = (md > 0) & (mc < md)
print(n, int(liq.sum()), float(dv[liq].sum()), float(np.maximum(dv - cv, 0).sum()))
"""
