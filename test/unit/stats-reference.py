# Independent reference: Mann-Whitney by direct pair counting (not ranks), tie-corrected variance, NormalDist tail.
from statistics import NormalDist
from collections import Counter
import math
def mw(a,b):
    u = sum((1 if x>y else 0.5 if x==y else 0) for x in a for y in b)
    n1,n2=len(a),len(b); n=n1+n2
    t = sum(c**3-c for c in Counter(a+b).values())
    var = n1*n2/12*((n+1)-t/(n*(n-1)))
    mu=n1*n2/2
    d=abs(u-mu)-0.5
    z=math.copysign(max(d,0),u-mu)/math.sqrt(var)
    return u,z,2*(1-NormalDist().cdf(abs(z)))
print(mw([19,22,16,29,24],[20,11,17,12]))
print(mw([1,2,2,3,3,3,4,5],[3,4,4,5,5,6,6,7,8]))
print(mw([0.1,0.1,0.1,0.2,0.2,0.3],[0.1,0.2,0.2,0.3,0.3,0.3,0.4]))
def tp(x1,n1,x2,n2):
    p=(x1+x2)/(n1+n2); se=math.sqrt(p*(1-p)*(1/n1+1/n2)); z=(x1/n1-x2/n2)/se
    return z, 2*(1-NormalDist().cdf(abs(z)))
print(tp(3,10000,0,10000)); print(tp(40,10000,0,10000)); print(tp(30,1000,20,1200))
import statistics
print(statistics.median([x-y for x in [1,2,2,3,3,3,4,5] for y in [3,4,4,5,5,6,6,7,8]]))
