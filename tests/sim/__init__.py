"""The kubectl-azlinux simulator: AKS, ARM and Entra ID over real HTTPS.

    from sim.scenario import demo_scenario
    from sim.server import Sim
    with Sim(demo_scenario(), workdir) as sim:      # writes workdir/kubeconfig
        sim.env_vars()                              # KUBECONFIG, SSL_CERT_FILE, Azure URLs
        k8s = sim.cluster("demo-aks").k8s           # k8s.K8sState: nodes(), pods(), ...
        k8s.forbid("bob", "list", "nodes"); k8s.tokens["t"] = "bob"
        sim.faults.add(server="azure", status=429, retry_after=1)
        sim.count(server="demo-aks", method="PATCH")
        sim.clock.pause(); sim.clock.step(60)       # clock.py: simulated time
        k8s.add_node("system"); k8s.safety.counts() # k8s.py: the cluster over time

Modules: pki (CA and certificates), scenario (pools and clusters), clock
(simulated time), server (HTTPS servers, request log, faults, Azure tokens,
kubeconfig), k8s (the Kubernetes API), arm and entra (Azure handlers, loaded when present),
azsim (standalone runner), demo (`make demo`).
"""
