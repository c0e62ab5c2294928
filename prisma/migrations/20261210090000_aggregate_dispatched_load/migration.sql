-- The dispatched (post-drop) global load beside the router load (issue 17): "load" now holds the counts
-- before capacity dropping where ranks sent them. NULL when the two are equal, which is every run without
-- a capacity factor, so their rows do not grow.
ALTER TABLE "LayerAggregate" ADD COLUMN "dispatchedLoad" BLOB;
